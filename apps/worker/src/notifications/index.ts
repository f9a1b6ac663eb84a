export {
  type AdminNotice,
  type AdminNoticeResult,
  type AdminNotifier,
  type AdminNotifierDeps,
  createAdminNotifier,
} from "./admin-notifier.ts";
export { deliverWebhook, type WebhookOutcome } from "./deliver-webhook.ts";
export {
  createExportNotifier,
  type ExportNotifier,
  type ExportNotifierDeps,
} from "./export-notifier.ts";
export type { FinishedExport } from "./messages.ts";
export {
  type NotificationConsumerDeps,
  startNotificationConsumer,
} from "./notification-consumer.ts";
export {
  type NotificationConsumers,
  startNotificationConsumers,
} from "./start-notifications.ts";
