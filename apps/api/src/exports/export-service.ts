import type { Readable } from "node:stream";
import {
  createExportWithinCap,
  deleteExport,
  type ExportRecord,
  effectiveExportStatus,
  findOrganizationBySlug,
  findOrgMember,
  getExport,
  getExportById,
  markExportFailed,
  planHasAuditLogs,
} from "@auditlog/db";
import { type ExportFormat, type ExportLink, type ExportManifest, roleCan } from "@auditlog/events";
import { exportDownloadName } from "@auditlog/exports";
import type { EntryQueryInput } from "../audit-log/entry-query-input.ts";
import {
  type ApiActor,
  type ApiClient,
  orgTarget,
  recordApiAction,
} from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import { addWithinDeadline } from "../queues/add-within-deadline.ts";
import type { Services } from "../services.ts";
import { checkExportLink, exportDownloadPath, exportLinkKey } from "./export-links.ts";

type ExportServices = Pick<Services, "db" | "jobs" | "redis" | "env" | "logger" | "exportStorage">;

interface OrgRef {
  id: string;
  slug: string;
  name: string;
}

/**
 * Requests a background export: the row (unless the organisation is at its cap of pending
 * exports: 429), the `org.audit_log.export` entry, then the build job.
 * An export that cannot be recorded is not made (the row is removed again); one that cannot be
 * queued is marked failed. Either way the caller gets a 503 and may retry.
 */
export async function requestExport(
  services: ExportServices,
  input: {
    org: OrgRef;
    requester: ApiActor;
    client: ApiClient;
    format: ExportFormat;
    filter: Pick<EntryQueryInput, "printed" | "includeHidden">;
  },
): Promise<ExportRecord> {
  const { org, format, filter } = input;
  const created = await createExportWithinCap(
    services.db,
    {
      orgId: org.id,
      requestedBy: { id: input.requester.id, name: input.requester.name },
      format,
      query: filter.printed,
      includeHidden: filter.includeHidden,
    },
    services.env.EXPORT_MAX_PENDING_PER_ORG,
  );
  if (!created) {
    throw new ApiError(
      "rate_limited",
      `this organization already has ${services.env.EXPORT_MAX_PENDING_PER_ORG} exports queued or being built; request another once one of them is ready`,
      undefined,
      { "Retry-After": "30" },
    );
  }
  const { record, pendingBefore } = created;
  try {
    await recordApiAction(services, {
      orgId: org.id,
      actor: input.requester,
      client: input.client,
      event: {
        type: "org.audit_log.export",
        target: orgTarget(org),
        data: {
          exportId: record.id,
          format,
          ...(filter.printed ? { query: filter.printed } : {}),
          ...(filter.includeHidden ? { includeHidden: true } : {}),
        },
      },
    });
  } catch {
    // Not recorded, not exported: nothing was queued, so the request leaves no trace.
    await deleteExport(services.db, record.id).catch(() => {});
    throw new ApiError("service_unavailable", "the export could not be queued; retry later");
  }
  try {
    await addWithinDeadline(services.redis, services.env.REDIS_COMMAND_TIMEOUT_MS, () =>
      // Fair between organisations: an organisation's n-th pending export waits behind every
      // other organisation's first, second … (n−1)-th.
      services.jobs.exports.add(
        "export.build",
        { exportId: record.id },
        { jobId: record.id, priority: 1 + pendingBefore },
      ),
    );
  } catch {
    await markExportFailed(services.db, {
      id: record.id,
      error: "The export could not be queued. Request it again.",
    }).catch(() => {});
    throw new ApiError("service_unavailable", "the export could not be queued; retry later");
  }
  return record;
}

/** One of the organisation's exports; another organisation's id is simply not found (404). */
export async function findOrgExport(
  services: Pick<Services, "db">,
  orgId: string,
  id: string,
): Promise<ExportRecord> {
  const record = await getExport(services.db, orgId, id);
  if (!record) throw new ApiError("not_found", "export not found");
  return record;
}

/** 409 while the file is not there yet (or never will be), 410 once it has expired. */
export function assertDownloadable(record: ExportRecord, now = new Date()): string {
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
 * The signed manifest of a finished export. Kept after the file expires: it still verifies a
 * copy downloaded earlier. 409 while the export has none (not ready yet, or failed).
 */
export function exportManifestOf(record: ExportRecord): ExportManifest {
  if (!record.manifest) {
    const status = effectiveExportStatus(record);
    throw new ApiError(
      "conflict",
      status === "failed"
        ? `export ${record.id} failed and has no manifest`
        : `export ${record.id} is ${status}; its manifest is made once it is ready`,
    );
  }
  return record.manifest;
}

export type ExportDownload =
  | { kind: "file"; file: Readable; fileName: string; size: number | null }
  /** The storage serves the file itself: a presigned URL, short-lived (EXPORT_S3_PRESIGN_SECONDS). */
  | { kind: "redirect"; url: string };

/**
 * Opens a finished export's file for download, or, when the storage hands files out itself (S3
 * with EXPORT_S3_PRESIGN_SECONDS), checks it is there and presigns a URL to it. Either way the
 * download is recorded in the organisation's log before the first byte or the redirect: a
 * download that cannot be recorded is not served.
 */
export async function openExportDownload(
  services: ExportServices,
  input: {
    record: ExportRecord;
    org: OrgRef;
    actor: ApiActor;
    client: ApiClient;
    /** How the file was reached, when not by a signed-in admin (a signed link). */
    via?: string;
  },
): Promise<ExportDownload> {
  const { record, org } = input;
  const key = assertDownloadable(record);
  const fileName = exportDownloadName(record.orgSlug, record);
  const storage = services.exportStorage;
  const url = await storage.downloadUrl(key, {
    fileName,
    ...(record.expiresAt ? { notAfter: record.expiresAt } : {}),
  });
  const file = url ? null : await storage.openRead(key);
  if (url ? !(await storage.stat(key)) : !file) {
    throw new ApiError(
      "gone",
      `the file of export ${record.id} is no longer available; request a new export`,
    );
  }
  try {
    await recordApiAction(services, {
      orgId: org.id,
      actor: input.actor,
      client: input.client,
      event: {
        type: "org.audit_log.download",
        target: orgTarget(org),
        data: {
          exportId: record.id,
          format: record.format,
          ...(input.via ? { via: input.via } : {}),
        },
      },
    });
  } catch {
    file?.destroy();
    throw new ApiError("service_unavailable", "the download could not be recorded; retry later");
  }
  if (url) return { kind: "redirect", url };
  return { kind: "file", file: file as Readable, fileName, size: record.fileSize };
}

/**
 * A signed link to a ready export's file for the admin asking, valid EXPORT_LINK_TTL_SECONDS
 * (never past the file's own expiry), on PUBLIC_URL: a request's Host header is the client's to
 * choose, so it never decides where a link points.
 */
export async function createExportLink(
  services: Pick<Services, "env" | "deploymentKeys">,
  record: ExportRecord,
  issuer: { id: string },
): Promise<ExportLink> {
  assertDownloadable(record);
  const { env } = services;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const fileExpires = Math.floor((record.expiresAt?.getTime() ?? 0) / 1000);
  const expires = Math.min(nowSeconds + env.EXPORT_LINK_TTL_SECONDS, fileExpires);
  const path = exportDownloadPath(
    { exportId: record.id, orgId: record.orgId, issuedBy: issuer.id, expires },
    await exportLinkKey(services),
  );
  return {
    url: `${env.PUBLIC_URL}${path}`,
    expiresAt: new Date(expires * 1000).toISOString(),
  };
}

/**
 * The export, organisation and issuing admin a signed link names, once its signature and expiry
 * check out and its issuer is still an admin there. An unknown export answers like a forged
 * link: a link proves nothing about what exists.
 */
export async function resolveSignedLink(
  services: Pick<Services, "db" | "env" | "deploymentKeys">,
  link: { exportId: string; issuedBy: string; expires: string; signature: string },
): Promise<{ record: ExportRecord; org: OrgRef; issuer: ApiActor }> {
  const invalid = () =>
    new ApiError(
      "forbidden",
      "invalid download link: the signature does not match; request a new link",
    );
  const record = /^exp_[0-9a-f]{24}$/.test(link.exportId)
    ? await getExportById(services.db, link.exportId)
    : null;
  if (!record) throw invalid();
  const check = checkExportLink({ ...link, orgId: record.orgId }, await exportLinkKey(services), {
    ttlSeconds: services.env.EXPORT_LINK_TTL_SECONDS,
  });
  if (check === "invalid") throw invalid();
  if (check === "overlong") {
    throw new ApiError(
      "forbidden",
      "invalid download link: its expiry is further away than links are issued for; request a new link",
    );
  }
  if (check === "expired") {
    throw new ApiError("forbidden", "this download link has expired; request a new link");
  }
  const org = await findOrganizationBySlug(services.db, record.orgSlug);
  if (!org || !planHasAuditLogs(org.plan)) {
    throw new ApiError("forbidden", "this organization's plan has no audit logs");
  }
  const issuer = await findOrgMember(services.db, { orgId: org.id, userId: link.issuedBy });
  // Whoever made the link must still be allowed to export (an admin or an auditor, roles.ts).
  if (!issuer || !roleCan(issuer.role, "readLog")) {
    throw new ApiError(
      "forbidden",
      "this download link was made by someone who may no longer read the organization's log; request a new link",
    );
  }
  return {
    record,
    org: { id: org.id, slug: org.slug, name: org.name },
    issuer: { type: "user", id: issuer.user.id, name: issuer.user.name },
  };
}
