export {
  AuditLogClient,
  type AuditLogClientOptions,
  apiMaxBatchEvents,
  apiMaxEventBytes,
  type ClientStats,
  type DropReason,
  type RejectInfo,
  type RetryInfo,
} from "./client.ts";
export { newEventId } from "./event-id.ts";
export type {
  Actor,
  AuditEvent,
  EventContext,
  EventDataByType,
  EventEnvelope,
  EventType,
  Target,
} from "./generated/event-types.ts";
export { parseRetryAfter, retryDelay } from "./retry.ts";
