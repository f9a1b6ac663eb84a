import { hubExportSchema } from "@auditlog/events/hub-export-schema";
import { hubExportChunks } from "@auditlog/exports";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { readLimit } from "../http/query-params.ts";
import { takeQuerySlot } from "../http/query-slots.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { refuseCrossSiteSession } from "../http/refuse-cross-site-session.ts";
import { body, documented, entryFilterParams, limitParam, orgParam } from "../openapi/describe.ts";
import { readEntryQuery } from "./entry-query-input.ts";
import { orgTarget, recordApiAction, requestActor, requestClient } from "./record-api-action.ts";

/** The Hub's published schema of the answer, without its dialect line (the document's own). */
const { $schema: _dialect, ...hubExportBody } = hubExportSchema;

/** The Hub answers with at most its newest 100,000 events; so do we by default. */
export const hubExportCap = 100_000;

/**
 * `GET /api/organizations/:org/audit-log/export?q=…`: the Hub's own endpoint and shape, so tools
 * written for the Hub work unchanged. PostgreSQL renders every item and streams them with one
 * COPY (`hubExportChunks`); this process passes the bytes on (compressed by `compressAnswers` for
 * a client that accepts it), never building the answer in memory.
 */
export const hubExportRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Audit log",
      summary: "The Hub-compatible export: every matching entry as one JSON array, streamed",
      description:
        "The Hub's own endpoint and shape, so tools written for the Hub work unchanged; newest first, at most `limit` (default and maximum 100,000). Recorded in the log. A cookie session from another site (`Sec-Fetch-Site: cross-site`) is refused (403).",
      auth: "orgAdmin",
      parameters: [orgParam, ...entryFilterParams, limitParam(hubExportCap, hubExportCap)],
      responses: {
        200: body(
          "application/json",
          "A JSON array of Hub audit-log events (an attachment)",
          hubExportBody,
        ),
      },
    }),
    refuseCrossSiteSession,
    async (c) => {
      const { query, printed } = readEntryQuery(c);
      const limit = readLimit(c, hubExportCap, hubExportCap);
      const { org, services } = c.var;
      // Held until the stream ends, not only until the handler returns.
      const release = await takeQuerySlot(services.querySlots, org.id);
      try {
        await recordApiAction(services, {
          orgId: org.id,
          actor: requestActor(c),
          client: requestClient(c),
          event: {
            type: "org.audit_log.export",
            target: orgTarget(org),
            data: { format: "hub", ...(printed ? { query: printed } : {}) },
          },
        });
      } catch {
        release();
        // An export that cannot be recorded is not served: the log must show who took it.
        throw new ApiError("service_unavailable", "the export could not be recorded; retry later");
      }
      const date = new Date().toISOString().slice(0, 10);
      c.set("compression", "fast");
      c.header("Content-Type", "application/json; charset=utf-8");
      c.header("Content-Disposition", `attachment; filename="${org.slug}-audit-log-${date}.json"`);
      return stream(
        c,
        async (out) => {
          try {
            for await (const chunk of hubExportChunks(services.db.forReads(), {
              orgId: org.id,
              query,
              max: limit,
              timeoutMs: services.env.HUB_EXPORT_TIMEOUT_MS,
            })) {
              await out.write(chunk);
              if (out.aborted) return;
            }
          } finally {
            release();
          }
        },
        async (error, out) => {
          // Headers are gone: end the body unfinished so the client sees truncated JSON, not a
          // valid-looking partial file.
          services.logger.error("hub export failed", {
            requestId: c.var.requestId,
            error: error.message,
          });
          out.abort();
        },
      );
    },
  );
