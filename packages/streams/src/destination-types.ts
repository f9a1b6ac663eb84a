import type { StreamDestination } from "@auditlog/events";

export type HttpsDestination = Extract<StreamDestination, { type: "https" }>;
export type SplunkDestination = Extract<StreamDestination, { type: "splunk" }>;
export type DatadogDestination = Extract<StreamDestination, { type: "datadog" }>;
export type S3Destination = Extract<StreamDestination, { type: "s3" }>;
