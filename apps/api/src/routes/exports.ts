import { Readable } from "node:stream";
import {
  createExport,
  deleteExport,
  type ExportRecord,
  effectiveExportStatus,
  findOrganizationBySlug,
  getExport,
  getExportById,
  listExports,
  markExportFailed,
  planHasAuditLogs,
  toAuditExport,
} from "@auditlog/db";
import {
  type AuditExportList,
  createExportRequestSchema,
  type ExportFormat,
  type ExportLink,
} from "@auditlog/events";
import { exportDownloadName } from "@auditlog/exports";
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { checkExportLink, exportDownloadPath, exportLinkSecret } from "../auth/export-links.ts";
import { ApiError } from "../errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { recordUserAction, withinRedisDeadline } from "../ingest/enqueue.ts";
import { requireOrgAdmin } from "../middleware/require-org-admin.ts";
import { userAuth } from "../middleware/user-auth.ts";
import type { AppEnv } from "../types.ts";
import { readExportQuery, readLimit } from "./entry-query-input.ts";

const smallBody = bodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new ApiError("payload_too_large", "request body exceeds 65536 bytes");
  },
});

/** 404 for an id of another organisation too: the path's organisation is the only scope. */
async function findExport(c: Context<AppEnv>): Promise<ExportRecord> {
  const record = await getExport(c.var.services.db, c.var.org.id, c.req.param("id") ?? "");
  if (!record) throw new ApiError("not_found", "export not found");
  return record;
}

/** 409 while the file is not there yet (or never will be), 410 once it has expired. */
function assertDownloadable(record: ExportRecord, now = new Date()): string {
  const status = effectiveExportStatus(record, now);
  if (status === "expired") {
    throw new ApiError(
      "gone",
      `export ${record.id} has expired and its file was deleted; request a new export`,
    );
  }
  if (status === "failed") {
    throw new ApiError(
      "conflict",
      `export ${record.id} failed and has no file: ${record.error ?? "unknown error"}`,
    );
  }
  if (status !== "ready" || !record.storageKey) {
    throw new ApiError(
      "conflict",
      `export ${record.id} is ${status}; download it once it is ready`,
    );
  }
  return record.storageKey;
}

/**
 * Streams the finished gzip file. The download is recorded before the first byte: a download
 * that cannot be recorded is not served (the log must show who took it).
 */
async function serveExportFile(
  c: Context<AppEnv>,
  record: ExportRecord,
  recordDownload: () => Promise<void>,
) {
  const key = assertDownloadable(record);
  const file = await c.var.services.exportStorage.openRead(key);
  if (!file) {
    throw new ApiError(
      "gone",
      `the file of export ${record.id} is no longer available; request a new export`,
    );
  }
  try {
    await recordDownload();
  } catch {
    file.destroy();
    throw new ApiError("service_unavailable", "the download could not be recorded; retry later");
  }
  file.on("error", (error) => {
    c.var.services.logger.error("export download failed", {
      requestId: c.var.requestId,
      exportId: record.id,
      error: error.message,
    });
  });
  c.header("Content-Type", "application/gzip");
  c.header(
    "Content-Disposition",
    `attachment; filename="${exportDownloadName(record.orgSlug, record)}"`,
  );
  if (record.fileSize !== null) c.header("Content-Length", String(record.fileSize));
  c.header("Cache-Control", "no-store");
  return c.body(Readable.toWeb(file) as unknown as ReadableStream<Uint8Array>, 200);
}

/** `/v1/orgs/:org/exports`: background exports of one organisation's log, for its admins. */
export const exportRoutes = new Hono<AppEnv>()
  .use(userAuth, requireOrgAdmin())
  .post("/", smallBody, async (c) => {
    const request = await readJsonBody(c, createExportRequestSchema);
    const { printed, includeHidden } = readExportQuery(request);
    const { services, org, user } = c.var;
    const record = await createExport(services.db, {
      orgId: org.id,
      requestedBy: { id: user.id, name: user.name },
      format: request.format,
      query: printed,
      includeHidden,
    });
    try {
      await recordUserAction(c, org.id, {
        type: "org.audit_log.export",
        target: { type: "organization", id: org.slug, name: org.name },
        data: {
          exportId: record.id,
          format: request.format,
          ...(printed ? { query: printed } : {}),
          ...(includeHidden ? { includeHidden: true } : {}),
        },
      });
    } catch {
      // Not recorded, not exported: nothing was queued, so the request leaves no trace.
      await deleteExport(services.db, record.id).catch(() => {});
      throw new ApiError("service_unavailable", "the export could not be queued; retry later");
    }
    try {
      await withinRedisDeadline(services, () =>
        services.jobs.exports.add("export.build", { exportId: record.id }, { jobId: record.id }),
      );
    } catch {
      await markExportFailed(services.db, {
        id: record.id,
        error: "The export could not be queued. Request it again.",
      }).catch(() => {});
      throw new ApiError("service_unavailable", "the export could not be queued; retry later");
    }
    return c.json(toAuditExport(record), 202);
  })
  .get("/", async (c) => {
    const limit = readLimit(c, 50, 200);
    const records = await listExports(c.var.services.db, c.var.org.id, { limit });
    const now = new Date();
    const body: AuditExportList = { exports: records.map((r) => toAuditExport(r, now)) };
    return c.json(body);
  })
  .get("/:id", async (c) => c.json(toAuditExport(await findExport(c))))
  .get("/:id/download", async (c) => {
    const record = await findExport(c);
    const org = c.var.org;
    return serveExportFile(c, record, () =>
      recordUserAction(c, org.id, {
        type: "org.audit_log.download",
        target: { type: "organization", id: org.slug, name: org.name },
        data: { exportId: record.id, format: record.format },
      }),
    );
  })
  .post("/:id/link", async (c) => {
    const record = await findExport(c);
    assertDownloadable(record);
    const { env } = c.var.services;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const fileExpires = Math.floor((record.expiresAt?.getTime() ?? 0) / 1000);
    const expires = Math.min(nowSeconds + env.EXPORT_LINK_TTL_SECONDS, fileExpires);
    const path = exportDownloadPath(
      { exportId: record.id, orgId: record.orgId, expires },
      exportLinkSecret(env.EXPORT_LINK_SECRET),
    );
    const body: ExportLink = {
      url: new URL(path, c.req.url).toString(),
      expiresAt: new Date(expires * 1000).toISOString(),
    };
    return c.json(body);
  });

/**
 * `/v1/export-downloads/:id?expires=…&signature=…`: a signed link (POST …/exports/:id/link)
 * downloads without a session. The download is recorded for the export's requester, noting the
 * link.
 */
export const exportDownloadRoutes = new Hono<AppEnv>().get("/:id", async (c) => {
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  const { services } = c.var;
  const exportId = c.req.param("id");
  const expires = c.req.query("expires") ?? "";
  const signature = c.req.query("signature") ?? "";
  const invalid = () =>
    new ApiError(
      "forbidden",
      "invalid download link: the signature does not match; request a new link",
    );
  const record = /^exp_[0-9a-f]{24}$/.test(exportId)
    ? await getExportById(services.db, exportId)
    : null;
  // An unknown export answers like a forged link: a link proves nothing about what exists.
  if (!record) throw invalid();
  const check = checkExportLink(
    { exportId, orgId: record.orgId, expires, signature },
    exportLinkSecret(services.env.EXPORT_LINK_SECRET),
  );
  if (check === "invalid") throw invalid();
  if (check === "expired") {
    throw new ApiError("forbidden", "this download link has expired; request a new link");
  }
  const org = await findOrganizationBySlug(services.db, record.orgSlug);
  if (!org || !planHasAuditLogs(org.plan)) {
    throw new ApiError("forbidden", "this organization's plan has no audit logs");
  }
  return serveExportFile(c, record, () =>
    recordUserAction(
      c,
      org.id,
      {
        type: "org.audit_log.download",
        target: { type: "organization", id: org.slug, name: org.name },
        data: { exportId: record.id, format: record.format, via: "signed link" },
      },
      { type: "user", id: record.requestedBy, name: record.requestedByName },
    ),
  );
});
