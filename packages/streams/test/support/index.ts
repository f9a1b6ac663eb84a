/**
 * Test receivers of the stream destinations (`@auditlog/streams/testing`): real servers on
 * 127.0.0.1 that check requests as the real services document them and record what they took.
 */
export { DatadogIntakeReceiver } from "./datadog-receiver.ts";
export { makeEntries, makeEntry, makeStreamEntries } from "./entries.ts";
export {
  type AcceptedBatch,
  type FailureScript,
  type ReceivedRequest,
  ReceiverServer,
} from "./receiver-server.ts";
export { S3TestServer, type StoredObject, s3TestCredentials } from "./s3-receiver.ts";
export { SplunkHecReceiver, splitConcatenatedJson } from "./splunk-receiver.ts";
export { type ReceivedMessage, WebhookReceiver } from "./webhook-receiver.ts";
