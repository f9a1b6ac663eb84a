import { Readable } from "node:stream";
import { listExports, toAuditExport } from "@auditlog/db";
import {
  type AuditExportList,
  createExportRequestSchema,
  exportLinkSchema,
  exportListSchema,
  exportManifestSchema,
  exportSchema,
} from "@auditlog/events";
import { exportManifestName } from "@auditlog/exports";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { readExportQuery } from "../audit-log/entry-query-input.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { readLimit } from "../http/query-params.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { refuseCrossSiteSession } from "../http/refuse-cross-site-session.ts";
import {
  body,
  documented,
  json,
  limitParam,
  orgParam,
  pathParam,
  queryParam,
} from "../openapi/describe.ts";
import {
  createExportLink,
  type ExportDownload,
  exportManifestOf,
  findOrgExport,
  openExportDownload,
  requestExport,
  resolveSignedLink,
} from "./export-service.ts";

const exportIdParam = pathParam("id", "The export's id", "exp_…");
const gzipFile = body("application/gzip", "The export's gzip file (an attachment)", {
  type: "string",
  contentMediaType: "application/gzip",
});
/** With EXPORT_STORAGE=s3 and EXPORT_S3_PRESIGN_SECONDS: the file comes from the bucket itself. */
const presignedRedirect = {
  description:
    "A redirect to a short-lived presigned URL of the storage (S3 storage with EXPORT_S3_PRESIGN_SECONDS set)",
  headers: {
    Location: { description: "The presigned URL", schema: { type: "string" as const } },
  },
};

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

/** `/v1/orgs/:org/exports`: background exports of one organisation's log, for its admins and
 * auditors (auth/role-policy.ts). */
export const exportRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .post(
    "/",
    documented({
      tag: "Exports",
      summary: "Request a background export of the log",
      description:
        "Answered at once (202); the worker builds the file. Filtered by `q` and/or `filters` (the query API's parameters), recorded in the log. At most EXPORT_MAX_PENDING_PER_ORG queued or building per organisation (429).",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createExportRequestSchema },
      bodyLimit: true,
      responses: { 202: json(exportSchema, "The export, queued") },
    }),
    limitBody(64 * 1024),
    async (c) => {
      const request = await readJsonBody(c, createExportRequestSchema);
      const record = await requestExport(c.var.services, {
        org: c.var.org,
        requester: requestActor(c),
        client: requestClient(c),
        format: request.format,
        filter: readExportQuery(request),
      });
      return c.json(toAuditExport(record), 202);
    },
  )
  .get(
    "/",
    documented({
      tag: "Exports",
      summary: "The organisation's exports, newest first",
      auth: "orgAdmin",
      parameters: [orgParam, limitParam(50, 200)],
      responses: { 200: json(exportListSchema, "Exports") },
    }),
    async (c) => {
      const limit = readLimit(c, 50, 200);
      const records = await listExports(c.var.services.db, c.var.org.id, { limit });
      const now = new Date();
      const body: AuditExportList = { exports: records.map((r) => toAuditExport(r, now)) };
      return c.json(body);
    },
  )
  .get(
    "/:id",
    documented({
      tag: "Exports",
      summary: "One export and its progress",
      auth: "orgAdmin",
      parameters: [orgParam, exportIdParam],
      responses: { 200: json(exportSchema, "The export") },
    }),
    async (c) =>
      c.json(toAuditExport(await findOrgExport(c.var.services, c.var.org.id, c.req.param("id")))),
  )
  .get(
    "/:id/download",
    documented({
      tag: "Exports",
      summary: "Download a ready export's file",
      description:
        "Recorded in the log. 409 while it is not ready (or failed), 410 once expired. A cookie session from another site (`Sec-Fetch-Site: cross-site`) is refused (403).",
      auth: "orgAdmin",
      parameters: [orgParam, exportIdParam],
      responses: { 200: gzipFile, 302: presignedRedirect },
      errors: [409, 410],
    }),
    refuseCrossSiteSession,
    async (c) => {
      const record = await findOrgExport(c.var.services, c.var.org.id, c.req.param("id"));
      const download = await openExportDownload(c.var.services, {
        record,
        org: c.var.org,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return sendFile(c, download, record.id);
    },
  )
  .get(
    "/:id/manifest",
    documented({
      tag: "Exports",
      summary: "A ready export's signed manifest",
      auth: "orgAdmin",
      parameters: [orgParam, exportIdParam],
      responses: { 200: json(exportManifestSchema, "The manifest (an attachment)") },
      errors: [409, 410],
    }),
    async (c) => {
      const record = await findOrgExport(c.var.services, c.var.org.id, c.req.param("id"));
      const manifest = exportManifestOf(record);
      c.header(
        "Content-Disposition",
        `attachment; filename="${exportManifestName(c.var.org.slug, record)}"`,
      );
      c.header("Cache-Control", "no-store");
      return c.json(manifest);
    },
  )
  .post(
    "/:id/link",
    documented({
      tag: "Exports",
      summary: "A signed link that downloads a ready export without a session",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, exportIdParam],
      responses: { 200: json(exportLinkSchema, "The link and when it expires") },
      errors: [409, 410],
    }),
    async (c) => {
      const record = await findOrgExport(c.var.services, c.var.org.id, c.req.param("id"));
      return c.json(await createExportLink(c.var.services, record, c.var.user));
    },
  );

/**
 * `/v1/export-downloads/:id?expires=…&by=…&signature=…`: a signed link (POST
 * …/exports/:id/link) downloads without a session. The download is recorded for the admin who
 * made the link, noting the link.
 * Opened from anywhere (an email, a chat) on purpose: it uses no cookie, so a cross-site page
 * gains nothing it did not already hold (the link itself).
 */
export const exportDownloadRoutes = new Hono<AppEnv>().get(
  "/:id",
  documented({
    tag: "Exports",
    summary: "Download an export through a signed link",
    description:
      "The link from POST /v1/orgs/{org}/exports/{id}/link: no credential; 403 for a bad, expired or orphaned link.",
    auth: "none",
    parameters: [
      exportIdParam,
      queryParam("expires", "From the link", { type: "string" }, true),
      queryParam("by", "From the link", { type: "string" }, true),
      queryParam("signature", "From the link", { type: "string" }, true),
    ],
    responses: { 200: gzipFile, 302: presignedRedirect },
    errors: [403, 404, 409, 410, 503],
  }),
  async (c) => {
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
  },
);
