import { z } from "zod";
import type { Category } from "../categories.ts";
import type { EventDefinition } from "../define-event.ts";
import { auditLogEvents } from "./audit-log.ts";
import { billingEvents } from "./billing.ts";
import { contentEvents } from "./content.ts";
import { jobEvents } from "./jobs.ts";
import { membershipEvents } from "./membership.ts";
import { organizationEvents } from "./organization.ts";
import { resourceGroupEvents } from "./resource-group.ts";

/** Every event type the platform accepts: PRODUCT.md §3 plus the Hub export schema's enum. */
export const eventDefinitions = [
  ...organizationEvents,
  ...membershipEvents,
  ...contentEvents,
  ...billingEvents,
  ...resourceGroupEvents,
  ...jobEvents,
  ...auditLogEvents,
] as const;

type Definitions = typeof eventDefinitions;
type SchemasOf<T extends readonly { schema: unknown }[]> = {
  -readonly [K in keyof T]: T[K]["schema"];
};

export const auditEventSchema = z.discriminatedUnion(
  "type",
  eventDefinitions.map((definition) => definition.schema) as unknown as SchemasOf<Definitions>,
  { error: (issue) => (issue.code === "invalid_union" ? "unknown event type" : undefined) },
);

/** An event as a platform service sends it. */
export type AuditEventInput = z.input<typeof auditEventSchema>;
/** An event after validation. */
export type AuditEvent = z.output<typeof auditEventSchema>;
export type EventType = AuditEvent["type"];

/** The organisation roles events name (`org.change_role`, `org.sso_join` …). */
export { orgRoles } from "./fields.ts";

export const eventTypes: readonly EventType[] = eventDefinitions.map((d) => d.type);

const definitionsByType = new Map<string, EventDefinition>(
  eventDefinitions.map((definition) => [definition.type, definition as unknown as EventDefinition]),
);

export function isEventType(type: string): type is EventType {
  return definitionsByType.has(type);
}

export function getEventDefinition(type: string): EventDefinition | undefined {
  return definitionsByType.get(type);
}

/** Whether only the API itself records events of `type` (see `reservedForApi`). */
export function isReservedForApi(type: string): boolean {
  return definitionsByType.get(type)?.reservedForApi === true;
}

export function categoryOf(type: EventType): Category {
  return (definitionsByType.get(type) as EventDefinition).category;
}

/** The stored human description of a validated event. */
export function describeEvent(event: AuditEvent): string {
  const definition = definitionsByType.get(event.type) as EventDefinition;
  return definition.describe({ actor: event.actor, target: event.target, data: event.data });
}
