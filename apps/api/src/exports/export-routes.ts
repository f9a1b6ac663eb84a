import { Readable } from "node:stream";
import { listExports, toAuditExport } from "@auditlog/db";
import { type AuditExportList, createExportRequestSchema } from "@auditlog/events";
import { exportManifestName } from "@auditlog/exports";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { readExportQuery } from "../audit-log/entry-query-input.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgAdmin } from "../auth/require-org-admin.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { readLimit } from "../http/query-params.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { refuseCrossSiteSession } from "../http/refuse-cross-site-session.ts";
import {
  createExportLink,
  type ExportDownload,
  exportManifestOf,
  findOrgExport,
  openExportDownload,
  requestExport,
  resolveSignedLink,
} from "./export-service.ts";

/** The finished gzip file, streamed; or a redirect to the storage's own short-lived URL. */
function sendFile(c: Context<AppEnv>, download: ExportDownload, exportId: string) {
  c.header("Cache-Control", "no-store");
  if (download.kind === "redirect") {
    // The URL is a bearer credential for the file until it expires: never kept by a cache,
    // never passed on as a referrer.
    c.header("Referrer-Policy", "no-referrer");
    return c.redirect(download.url, 302);
  }
  download.file.on("error", (error) => {
    c.var.services.logger.error("export download failed", {
      requestId: c.var.requestId,
      exportId,
      error: error.message,
    });
  });
  c.header("Content-Type", "application/gzip");
  c.header("Content-Disposition", `attachment; filename="${download.fileName}"`);
  if (download.size !== null) c.header("Content-Length", String(download.size));
  return c.body(Readable.toWeb(download.file) as unknown as ReadableStream<Uint8Array>, 200);
}

/** `/v1/orgs/:org/exports`: background exports of one organisation's log, for its admins. */
export const exportRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgAdmin())
  .post("/", limitBody(64 * 1024), async (c) => {
    const request = await readJsonBody(c, createExportRequestSchema);
    const record = await requestExport(c.var.services, {
      org: c.var.org,
      requester: requestActor(c),
      client: requestClient(c),
      format: request.format,
      filter: readExportQuery(request),
    });
    return c.json(toAuditExport(record), 202);
  })
  .get("/", async (c) => {
    const limit = readLimit(c, 50, 200);
    const records = await listExports(c.var.services.db, c.var.org.id, { limit });
    const now = new Date();
    const body: AuditExportList = { exports: records.map((r) => toAuditExport(r, now)) };
    return c.json(body);
  })
  .get("/:id", async (c) =>
    c.json(toAuditExport(await findOrgExport(c.var.services, c.var.org.id, c.req.param("id")))),
  )
  .get("/:id/download", refuseCrossSiteSession, async (c) => {
    const record = await findOrgExport(c.var.services, c.var.org.id, c.req.param("id"));
    const download = await openExportDownload(c.var.services, {
      record,
      org: c.var.org,
      actor: requestActor(c),
      client: requestClient(c),
    });
    return sendFile(c, download, record.id);
  })
  .get("/:id/manifest", async (c) => {
    const record = await findOrgExport(c.var.services, c.var.org.id, c.req.param("id"));
    const manifest = exportManifestOf(record);
    c.header(
      "Content-Disposition",
      `attachment; filename="${exportManifestName(c.var.org.slug, record)}"`,
    );
    c.header("Cache-Control", "no-store");
    return c.json(manifest);
  })
  .post("/:id/link", async (c) => {
    const record = await findOrgExport(c.var.services, c.var.org.id, c.req.param("id"));
    return c.json(await createExportLink(c.var.services, record, c.var.user));
  });

/**
 * `/v1/export-downloads/:id?expires=…&by=…&signature=…`: a signed link (POST
 * …/exports/:id/link) downloads without a session. The download is recorded for the admin who
 * made the link, noting the link.
 * Opened from anywhere (an email, a chat) on purpose: it uses no cookie, so a cross-site page
 * gains nothing it did not already hold (the link itself).
 */
export const exportDownloadRoutes = new Hono<AppEnv>().get("/:id", async (c) => {
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  const { record, org, issuer } = await resolveSignedLink(c.var.services, {
    exportId: c.req.param("id"),
    issuedBy: c.req.query("by") ?? "",
    expires: c.req.query("expires") ?? "",
    signature: c.req.query("signature") ?? "",
  });
  const download = await openExportDownload(c.var.services, {
    record,
    org,
    actor: issuer,
    client: requestClient(c),
    via: "signed link",
  });
  return sendFile(c, download, record.id);
});
