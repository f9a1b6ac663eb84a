import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import { storedQueryLimits } from "../query/index.ts";

const exportData = z.looseObject({
  /** The whole filter as the API printed it (q merged with filter parameters). */
  query: z.string().max(storedQueryLimits.maxLength).optional(),
  format: z.enum(["json", "ndjson", "csv", "hub"]).optional(),
  exportId: z.string().max(100).optional(),
});

/** Retention in days, as the plan bounds it (issue 16). */
const retentionDays = z.number().int().min(1).max(100_000);
const seqNumber = z.number().int().min(0);
const reason = z.string().max(500);

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
  // The log's own lifecycle (issue 16): recorded by the API and the lifecycle job, in the
  // organisation's own log, so a purge or an erasure is itself on the record.
  defineEvent({
    type: "org.audit_log.retention.update",
    category: "audit_log",
    title: "Audit log retention changed",
    hiddenByDefault: true,
    reservedForApi: true,
    data: z.looseObject({ from: retentionDays.nullable().optional(), to: retentionDays }),
    example: { from: 180, to: 365 },
    describe: ({ actor, data }) =>
      `${actor.name} set the audit log's retention to ${data.to} days${data.from ? ` (was ${data.from})` : ""}`,
  }),
  defineEvent({
    type: "org.audit_log.legal_hold.enable",
    category: "audit_log",
    title: "Legal hold placed on the audit log",
    hiddenByDefault: true,
    reservedForApi: true,
    data: z.looseObject({ reason: reason.optional() }),
    example: { reason: "Litigation hold, case 2026-114" },
    describe: ({ actor, data }) =>
      `${actor.name} placed the audit log under legal hold${data.reason ? `: ${data.reason}` : ""}`,
  }),
  defineEvent({
    type: "org.audit_log.legal_hold.disable",
    category: "audit_log",
    title: "Legal hold lifted from the audit log",
    hiddenByDefault: true,
    reservedForApi: true,
    data: z.looseObject({ reason: reason.optional() }),
    example: { reason: "Case closed" },
    describe: ({ actor, data }) =>
      `${actor.name} lifted the legal hold on the audit log${data.reason ? `: ${data.reason}` : ""}`,
  }),
  defineEvent({
    type: "org.audit_log.purge",
    category: "audit_log",
    title: "Audit log entries purged",
    hiddenByDefault: true,
    reservedForApi: true,
    data: z.looseObject({
      entries: seqNumber,
      throughSeq: seqNumber,
      retentionDays: retentionDays.optional(),
    }),
    example: { entries: 120_000, throughSeq: 120_000, retentionDays: 180 },
    describe: ({ actor, data }) =>
      `${actor.name} purged ${data.entries.toLocaleString("en-US")} entries older than the retention (through entry ${data.throughSeq})`,
  }),
  defineEvent({
    type: "org.audit_log.erase",
    category: "audit_log",
    title: "Personal data erased from the audit log",
    hiddenByDefault: true,
    reservedForApi: true,
    data: z.looseObject({
      erasureId: z.string().max(100).optional(),
      pseudonym: z.string().max(100),
      entries: seqNumber,
    }),
    example: { erasureId: "era_0123456789abcdef", pseudonym: "erased-7f3a91c2", entries: 42 },
    describe: ({ actor, data }) =>
      `${actor.name} erased the personal data of ${data.pseudonym} from ${data.entries.toLocaleString("en-US")} entries`,
  }),
  // Streams and alert rules (issue 17): their configuration changes are on the record too.
  // Names and ids only: a destination's secret never reaches the log.
  ...(["create", "update", "delete"] as const).map((action) =>
    defineEvent({
      type: `org.audit_log.stream.${action}`,
      category: "audit_log",
      title: `Audit log stream ${action === "create" ? "created" : action === "update" ? "changed" : "deleted"}`,
      hiddenByDefault: true,
      reservedForApi: true,
      data: z.looseObject({
        streamId: z.string().max(100),
        name: z.string().max(100),
        destinationType: z.enum(["https", "splunk", "datadog", "s3"]),
        /** The fields a change touched (`paused`, `q`, `destination` …), for updates. */
        changed: z.array(z.string().max(50)).max(20).optional(),
      }),
      example: {
        streamId: "str_0123456789abcdef01234567",
        name: "Splunk (SOC)",
        destinationType: "splunk" as const,
      },
      describe: ({ actor, data }) =>
        `${actor.name} ${action === "create" ? "created" : action === "update" ? `changed${data.changed?.length ? ` (${data.changed.join(", ")})` : ""}` : "deleted"} the ${data.destinationType} stream "${data.name}"`,
    }),
  ),
  ...(["create", "update", "delete"] as const).map((action) =>
    defineEvent({
      type: `org.audit_log.alert.${action}`,
      category: "audit_log",
      title: `Audit log alert rule ${action === "create" ? "created" : action === "update" ? "changed" : "deleted"}`,
      hiddenByDefault: true,
      reservedForApi: true,
      data: z.looseObject({
        alertId: z.string().max(100),
        name: z.string().max(100),
        q: z.string().max(storedQueryLimits.maxLength).optional(),
        changed: z.array(z.string().max(50)).max(20).optional(),
      }),
      example: {
        alertId: "alr_0123456789abcdef01234567",
        name: "Role changes",
        q: "type:org.change_role",
      },
      describe: ({ actor, data }) =>
        `${actor.name} ${action === "create" ? "created" : action === "update" ? `changed${data.changed?.length ? ` (${data.changed.join(", ")})` : ""}` : "deleted"} the alert rule "${data.name}"`,
    }),
  ),
  // Scoped viewer links (issue 20): created, revoked, and used (at most one `use` entry per
  // link every few minutes, not one per page load). Never the token.
  ...(["create", "revoke", "use"] as const).map((action) =>
    defineEvent({
      type: `org.audit_log.viewer_link.${action}`,
      category: "audit_log",
      title: `Audit log viewer link ${action === "create" ? "created" : action === "revoke" ? "revoked" : "used"}`,
      hiddenByDefault: true,
      reservedForApi: true,
      data: z.looseObject({
        linkId: z.string().max(100),
        name: z.string().max(100),
        q: z.string().max(storedQueryLimits.maxLength).optional(),
        expiresAt: z.string().max(40).optional(),
        /** For uses: what the holder did (`list`, `export`, `embed`). */
        via: z.enum(["list", "export", "embed"]).optional(),
      }),
      example: {
        linkId: "vwl_0123456789abcdef01234567",
        name: "acme/bert owners",
        q: "target:acme/bert",
      },
      describe: ({ actor, data }) =>
        action === "use"
          ? `${actor.name} used the viewer link "${data.name}"${data.via ? ` (${data.via})` : ""}`
          : `${actor.name} ${action === "create" ? "created" : "revoked"} the viewer link "${data.name}"${data.q ? ` for "${data.q}"` : ""}`,
    }),
  ),
] as const;
