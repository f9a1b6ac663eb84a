import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import { storedQueryLimits } from "../query/index.ts";

const exportData = z.looseObject({
  /** The whole filter as the API printed it (q merged with filter parameters). */
  query: z.string().max(storedQueryLimits.maxLength).optional(),
  format: z.enum(["json", "ndjson", "csv", "hub"]).optional(),
  exportId: z.string().max(100).optional(),
});

export const auditLogEvents = [
  defineEvent({
    type: "org.audit_log.export",
    category: "audit_log",
    title: "Audit log exported",
    hiddenByDefault: true,
    reservedForApi: true,
    data: exportData,
    example: { query: "type:repo.*", format: "hub" },
    describe: ({ actor, data }) =>
      `${actor.name} exported the audit log${data.query ? ` matching "${data.query}"` : ""}`,
  }),
  defineEvent({
    type: "org.audit_log.download",
    category: "audit_log",
    title: "Audit log export downloaded",
    hiddenByDefault: true,
    reservedForApi: true,
    data: exportData,
    example: { exportId: "exp_0123456789abcdef", format: "ndjson" },
    describe: ({ actor, data }) =>
      `${actor.name} downloaded audit log export${data.exportId ? ` ${data.exportId}` : ""}`,
  }),
] as const;
