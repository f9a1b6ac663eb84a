import type { StreamDestinationType } from "@auditlog/events";

/** One input of a destination type's settings, named as the API names it. */
export interface DestinationField {
  name: string;
  label: string;
  kind: "text" | "url" | "secret" | "checkbox";
  required?: boolean;
  placeholder?: string;
  hint?: string;
}

/** What each destination type asks for; secrets are password inputs, never shown back. */
export const destinationFields: Record<StreamDestinationType, DestinationField[]> = {
  https: [
    {
      name: "url",
      label: "URL",
      kind: "url",
      required: true,
      placeholder: "https://collector.example.com/audit",
    },
    {
      name: "signingSecret",
      label: "Signing secret",
      kind: "secret",
      placeholder: "whsec_…",
      hint: "Leave empty to have one generated (shown once, after creation).",
    },
  ],
  splunk: [
    {
      name: "url",
      label: "HEC URL",
      kind: "url",
      required: true,
      placeholder: "https://splunk.example.com:8088",
    },
    { name: "token", label: "HEC token", kind: "secret", required: true },
    { name: "index", label: "Index", kind: "text", placeholder: "main" },
  ],
  datadog: [
    {
      name: "site",
      label: "Site",
      kind: "text",
      placeholder: "datadoghq.com",
      hint: "datadoghq.com, datadoghq.eu, us5.datadoghq.com …",
    },
    { name: "apiKey", label: "API key", kind: "secret", required: true },
  ],
  s3: [
    { name: "bucket", label: "Bucket", kind: "text", required: true, placeholder: "audit-archive" },
    { name: "prefix", label: "Prefix", kind: "text", placeholder: "auditlog" },
    { name: "region", label: "Region", kind: "text", placeholder: "us-east-1" },
    {
      name: "endpoint",
      label: "Endpoint",
      kind: "url",
      placeholder: "https://s3.example.com",
      hint: "For an S3-compatible store (MinIO, R2); AWS when empty.",
    },
    { name: "forcePathStyle", label: "Path-style addressing", kind: "checkbox" },
    { name: "accessKeyId", label: "Access key ID", kind: "text", required: true },
    { name: "secretAccessKey", label: "Secret access key", kind: "secret", required: true },
  ],
};

/** The destination of a create request: the type and each field given (empty ones left out). */
export function destinationBody(
  type: StreamDestinationType,
  values: Record<string, string | boolean>,
): Record<string, unknown> {
  const body: Record<string, unknown> = { type };
  for (const field of destinationFields[type]) {
    const value = values[field.name];
    if (field.kind === "checkbox") {
      if (value === true) body[field.name] = true;
    } else if (typeof value === "string" && value.trim() !== "") {
      body[field.name] = field.kind === "secret" ? value : value.trim();
    }
  }
  return body;
}
