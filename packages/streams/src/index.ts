export { createDestinationSender } from "./create-destination-sender.ts";
export {
  createDatadogSender,
  datadogIntakeUrl,
  datadogLimits,
  datadogLog,
} from "./datadog-sender.ts";
export type {
  CreateDestinationSender,
  DeliveryOutcome,
  DestinationSender,
  SenderDeps,
  StreamBatch,
} from "./destination-sender.ts";
export { adoptEntryRun, encodeEntryRun } from "./entry-bytes.ts";
export {
  batchMessageId,
  createHttpsSender,
  type StreamMessage,
  streamMessageBody,
  streamMessagePieces,
  streamMessageType,
} from "./https-sender.ts";
export { createS3Sender, s3ObjectBody, s3ObjectKey } from "./s3-sender.ts";
export { parseRetryAfter } from "./send-context.ts";
export { createSplunkSender, splunkEventText, splunkEventUrl } from "./splunk-sender.ts";
