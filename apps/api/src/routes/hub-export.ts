import { streamEntries, toAuditEntry } from "@auditlog/db";
import { nonHubEventTypes } from "@auditlog/events";
import { toHubExportItem } from "@auditlog/exports";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { ApiError } from "../errors.ts";
import { recordUserAction } from "../ingest/enqueue.ts";
import { requireOrgAdmin } from "../middleware/require-org-admin.ts";
import { userAuth } from "../middleware/user-auth.ts";
import type { AppEnv } from "../types.ts";
import { readEntryQuery, readLimit } from "./entry-query-input.ts";

/** The Hub answers with at most its newest 100,000 events; so do we by default. */
export const hubExportCap = 100_000;

/**
 * `GET /api/organizations/:org/audit-log/export?q=…`: the Hub's own endpoint and shape, so tools
 * written for the Hub work unchanged. Streamed in keyset batches, never built in memory.
 */
export const hubExportRoutes = new Hono<AppEnv>()
  .use(userAuth, requireOrgAdmin())
  .get("/", async (c) => {
    const { query, printed } = readEntryQuery(c);
    const limit = readLimit(c, hubExportCap, hubExportCap);
    const org = c.var.org;
    try {
      await recordUserAction(c, org.id, {
        type: "org.audit_log.export",
        target: { type: "organization", id: org.slug, name: org.name },
        data: { format: "hub", ...(printed ? { query: printed } : {}) },
      });
    } catch {
      // An export that cannot be recorded is not served: the log must show who took it.
      throw new ApiError("service_unavailable", "the export could not be recorded; retry later");
    }
    const hubQuery = {
      ...query,
      excludeTypes: [...new Set([...query.excludeTypes, ...nonHubEventTypes])],
    };
    const date = new Date().toISOString().slice(0, 10);
    c.header("Content-Type", "application/json; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="${org.slug}-audit-log-${date}.json"`);
    return stream(
      c,
      async (out) => {
        let first = true;
        await out.write("[");
        for await (const rows of streamEntries(c.var.services.db, {
          orgId: org.id,
          query: hubQuery,
          max: limit,
        })) {
          let chunk = "";
          for (const row of rows) {
            chunk += `${first ? "" : ","}\n${JSON.stringify(toHubExportItem(toAuditEntry(row)))}`;
            first = false;
          }
          await out.write(chunk);
          if (out.aborted) return;
        }
        await out.write("\n]\n");
      },
      async (error, out) => {
        // Headers are gone: end the body unfinished so the client sees truncated JSON, not a
        // valid-looking partial file.
        c.var.services.logger.error("hub export failed", {
          requestId: c.var.requestId,
          error: error.message,
        });
        out.abort();
      },
    );
  });
