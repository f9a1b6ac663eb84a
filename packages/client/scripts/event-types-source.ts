import { envelopeShape, eventDefinitions } from "@auditlog/events";
import { z } from "zod";

/**
 * The text of src/generated/event-types.ts: the catalog's event shapes as plain TypeScript types,
 * so the client is typed by the catalog without importing it (or zod) at run time. Each type's
 * `data` comes from its zod schema through JSON Schema (as a producer writes it: the input
 * side); the types only the API records (`org.audit_log.*`) are left out, since an ingestion
 * key posting one is refused.
 */
export function eventTypesSource(): string {
  const definitions = eventDefinitions.filter((definition) => definition.reservedForApi !== true);
  const envelope = toJsonSchema(z.strictObject(envelopeShape));
  const properties = envelope.properties as Record<string, JsonSchema>;
  const lines = [
    "// Generated from the event catalog (packages/events) by scripts/generate-event-types.ts:",
    "// do not edit. test/event-types.test.ts fails when it differs from the catalog.",
    "",
    "/** Who acted. */",
    `export type Actor = ${typeOf(properties.actor as JsonSchema, "")};`,
    "",
    "/** What the action was done to. */",
    `export type Target = ${typeOf(properties.target as JsonSchema, "")};`,
    "",
    "/** Where the action came from: the full IP address (the API stores it truncated). */",
    `export type EventContext = ${typeOf(properties.context as JsonSchema, "")};`,
    "",
    "/** The `data` object of each event type a service may record. */",
    "export interface EventDataByType {",
  ];
  const optionalData: string[] = [];
  for (const definition of definitions) {
    const schema = toJsonSchema(definition.data);
    if (((schema.required as string[] | undefined) ?? []).length === 0) {
      optionalData.push(definition.type);
    }
    lines.push(`  /** ${definition.title} (${definition.category}). */`);
    lines.push(`  ${JSON.stringify(definition.type)}: ${typeOf(schema, "  ")};`);
  }
  lines.push(
    "}",
    "",
    "/** Every event type a service may record. */",
    "export type EventType = keyof EventDataByType;",
    "",
    "/** The types whose `data` has no required field: it may be left out. */",
    `export type EventTypeWithOptionalData =\n${optionalData.map((type) => `  | ${JSON.stringify(type)}`).join("\n")};`,
    "",
    "/** Everything an event holds besides its type and data. */",
    "export interface EventEnvelope {",
    "  /** The event's id, which the client generates when absent (`evt_` and 24 hex digits). */",
    "  id?: string;",
    "  /** ISO 8601 with an offset; the client sets the time of `record()` when absent. */",
    "  occurredAt?: string;",
    "  actor: Actor;",
    "  target?: Target;",
    "  context?: EventContext;",
    "}",
    "",
    "/** One event: its `type` picks the shape of its `data`. */",
    "export type AuditEvent = {",
    "  [Type in EventType]: EventEnvelope & { type: Type } & (Type extends EventTypeWithOptionalData",
    "      ? { data?: EventDataByType[Type] }",
    "      : { data: EventDataByType[Type] });",
    "}[EventType];",
    "",
  );
  return lines.join("\n");
}

type JsonSchema = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input" }) as JsonSchema;
}

const ignoredKeywords = new Set([
  "$schema",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "format",
  "pattern",
  "propertyNames",
  "description",
]);

/** The TypeScript type of a JSON Schema; anything it does not know stops the generator. */
function typeOf(schema: JsonSchema, indent: string): string {
  const unknownKeywords = Object.keys(schema).filter(
    (keyword) =>
      !ignoredKeywords.has(keyword) &&
      ![
        "type",
        "enum",
        "const",
        "anyOf",
        "not",
        "items",
        "properties",
        "required",
        "additionalProperties",
      ].includes(keyword),
  );
  if (unknownKeywords.length > 0) {
    throw new Error(`no TypeScript type for JSON Schema keywords ${unknownKeywords.join(", ")}`);
  }
  if (Object.keys(schema).every((keyword) => ignoredKeywords.has(keyword))) return "unknown";
  if ("not" in schema) return "never";
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (Array.isArray(schema.anyOf)) {
    const members = [...new Set(schema.anyOf.map((member) => typeOf(member, indent)))];
    return members.length === 1 ? (members[0] as string) : members.join(" | ");
  }
  const type = schema.type;
  if (Array.isArray(type)) {
    return type.map((one) => typeOf({ ...schema, type: one }, indent)).join(" | ");
  }
  switch (type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      const item = schema.items ? typeOf(schema.items as JsonSchema, indent) : "unknown";
      return /^[\w"]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case "object":
      return objectType(schema, indent);
    default:
      throw new Error(`no TypeScript type for JSON Schema type ${JSON.stringify(type)}`);
  }
}

function objectType(schema: JsonSchema, indent: string): string {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const inner = `${indent}  `;
  const members = Object.entries(properties).map(
    ([name, property]) =>
      `${inner}${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}${required.has(name) ? "" : "?"}: ${typeOf(property, inner)};`,
  );
  const extra = schema.additionalProperties;
  // A loose object (`additionalProperties: {}`) takes any further field; a strict one none.
  if (extra !== undefined && extra !== false) {
    const value = extra === true ? "unknown" : typeOf(extra as JsonSchema, inner);
    // An index signature must admit every named member's type too.
    const named = Object.keys(properties).length > 0;
    members.push(`${inner}[field: string]: ${named ? "unknown" : value};`);
  }
  if (members.length === 0) return extra === false ? "Record<string, never>" : "{}";
  return `{\n${members.join("\n")}\n${indent}}`;
}
