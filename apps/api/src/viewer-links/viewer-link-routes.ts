import {
  getViewerFrameOrigins,
  insertViewerLink,
  listViewerLinks,
  revokeViewerLink,
  setViewerFrameOrigins,
  type ViewerLinkRecord,
} from "@auditlog/db";
import {
  type CreatedViewerLink,
  createdViewerLinkSchema,
  createViewerLinkSchema,
  isEmptyQuery,
  maxViewerLinkDays,
  maxViewerLinksPerOrg,
  newId,
  parseQuery,
  printQuery,
  storedQueryLimits,
  type ViewerLink,
  viewerEmbeddingSchema,
  viewerLinkListSchema,
} from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import {
  orgTarget,
  recordApiAction,
  requestActor,
  requestClient,
} from "../audit-log/record-api-action.ts";
import { requireOrgAdmin } from "../auth/require-org-admin.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, empty, json, orgParam, pathParam } from "../openapi/describe.ts";
import { generateViewerLinkToken } from "./viewer-link-tokens.ts";

const dayMs = 24 * 60 * 60 * 1000;

/** The embeddable viewer's address for a link (the holder appends `#<token>`). */
export function embedUrlOf(publicUrl: string, linkId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/embed/viewer/${linkId}`;
}

function toViewerLink(record: ViewerLinkRecord, publicUrl: string, now: Date): ViewerLink {
  return {
    id: record.id,
    name: record.name,
    q: record.q,
    tokenPrefix: record.tokenPrefix,
    createdBy: { id: record.createdBy, name: record.createdByName },
    createdAt: record.createdAt.toISOString(),
    expiresAt: record.expiresAt.toISOString(),
    revokedAt: record.revokedAt?.toISOString() ?? null,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    status: record.revokedAt ? "revoked" : record.expiresAt <= now ? "expired" : "active",
    embedUrl: embedUrlOf(publicUrl, record.id),
  };
}

/**
 * `/v1/orgs/:org/viewer-links`: an organisation's scoped viewer links, managed by its admins
 * only (`requireOrgAdmin`). A link is read-only, bound to a non-empty `q` filter and an expiry;
 * its token is answered once, at creation, and only its hash is stored. Creating and revoking a
 * link are recorded in the organisation's own log.
 */
export const viewerLinkRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgAdmin())
  .get(
    "/",
    documented({
      tag: "Viewer links",
      summary: "The organisation's viewer links, newest first (expired and revoked included)",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: { 200: json(viewerLinkListSchema, "Its links, without their tokens") },
    }),
    async (c) => {
      const now = new Date();
      const records = await listViewerLinks(c.var.services.db, c.var.org.id);
      const links = records.map((r) => toViewerLink(r, c.var.services.env.PUBLIC_URL, now));
      return c.json({ links });
    },
  )
  .post(
    "/",
    documented({
      tag: "Viewer links",
      summary: "Create a read-only viewer link bound to a filter and an expiry",
      description: `\`q\` (not empty) is the filter every holder query is ANDed with; \`expiresAt\` is in the future, at most ${maxViewerLinkDays} days away. The token is in this answer only. At most ${maxViewerLinksPerOrg} active links per organisation.`,
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createViewerLinkSchema },
      bodyLimit: true,
      responses: { 201: json(createdViewerLinkSchema, "The link, with its token (shown once)") },
      errors: [409],
    }),
    limitBody(16 * 1024),
    async (c) => {
      const input = await readJsonBody(c, createViewerLinkSchema);
      const parsed = parseQuery(input.q, { limits: storedQueryLimits });
      if (!parsed.ok) {
        const message = `${parsed.error.message} at position ${parsed.error.position}`;
        throw new ApiError("validation_failed", `invalid request body: q ${message}`, [
          { path: "q", message, position: parsed.error.position, token: parsed.error.token },
        ]);
      }
      if (isEmptyQuery(parsed.query)) {
        throw new ApiError("validation_failed", "invalid request body: q must not be empty", [
          { path: "q", message: "must select something: a link to the whole log is refused" },
        ]);
      }
      const now = new Date();
      const expiresAt = new Date(input.expiresAt);
      if (expiresAt <= now || expiresAt.getTime() - now.getTime() > maxViewerLinkDays * dayMs) {
        throw new ApiError("validation_failed", "invalid request body: expiresAt", [
          {
            path: "expiresAt",
            message: `must be in the future and at most ${maxViewerLinkDays} days away`,
          },
        ]);
      }
      const { services, org } = c.var;
      const existing = await listViewerLinks(services.db, org.id);
      const active = existing.filter((l) => !l.revokedAt && l.expiresAt > now).length;
      if (active >= maxViewerLinksPerOrg) {
        throw new ApiError("conflict", `at most ${maxViewerLinksPerOrg} active viewer links`, [
          { path: "name", message: "revoke a link first" },
        ]);
      }
      const q = printQuery(parsed.query);
      const generated = generateViewerLinkToken();
      const id = newId("vwl");
      // Recorded before the link exists: a link is never usable without its entry in the log.
      await recordApiAction(services, {
        orgId: org.id,
        actor: requestActor(c),
        client: requestClient(c),
        event: {
          type: "org.audit_log.viewer_link.create",
          target: orgTarget(org),
          data: { linkId: id, name: input.name, q, expiresAt: expiresAt.toISOString() },
        },
      });
      const record = await insertViewerLink(services.db, {
        id,
        orgId: org.id,
        name: input.name,
        q,
        tokenHash: generated.hash,
        tokenPrefix: generated.prefix,
        createdBy: c.var.user.id,
        createdByName: c.var.user.name,
        expiresAt,
      });
      const link = toViewerLink(record, services.env.PUBLIC_URL, now);
      const body: CreatedViewerLink = {
        ...link,
        token: generated.token,
        embedSrc: `${link.embedUrl}#${generated.token}`,
      };
      return c.json(body, 201);
    },
  )
  .delete(
    "/:id",
    documented({
      tag: "Viewer links",
      summary: "Revoke a viewer link (its holder gets 401 from then on)",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, pathParam("id", "The link's id", "vwl_…")],
      responses: { 204: empty("Revoked (again: still revoked)") },
    }),
    async (c) => {
      const { services, org } = c.var;
      const id = c.req.param("id");
      const known = (await listViewerLinks(services.db, org.id)).find((l) => l.id === id);
      if (!known) throw new ApiError("not_found", "viewer link not found");
      if (!known.revokedAt) {
        await recordApiAction(services, {
          orgId: org.id,
          actor: requestActor(c),
          client: requestClient(c),
          event: {
            type: "org.audit_log.viewer_link.revoke",
            target: orgTarget(org),
            data: { linkId: known.id, name: known.name, q: known.q },
          },
        });
      }
      await revokeViewerLink(services.db, { orgId: org.id, id, now: new Date() });
      return c.body(null, 204);
    },
  );

/**
 * `/v1/orgs/:org/viewer-embedding`: the origins allowed to frame the organisation's embeddable
 * viewer (CSP `frame-ancestors`). Empty by default: no site may frame it. Admins only.
 */
export const viewerEmbeddingRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgAdmin())
  .get(
    "/",
    documented({
      tag: "Viewer links",
      summary: "The origins allowed to frame the embeddable viewer",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: { 200: json(viewerEmbeddingSchema, "The allowed origins") },
    }),
    async (c) => {
      const frameOrigins = await getViewerFrameOrigins(c.var.services.db, c.var.org.id);
      return c.json({ frameOrigins });
    },
  )
  .put(
    "/",
    documented({
      tag: "Viewer links",
      summary: "Set the origins allowed to frame the embeddable viewer",
      description:
        "Each an origin (`https://app.example.com`, scheme, host and port only); an empty list makes the viewer unframeable again.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: viewerEmbeddingSchema },
      bodyLimit: true,
      responses: { 200: json(viewerEmbeddingSchema, "The allowed origins, as stored") },
    }),
    limitBody(16 * 1024),
    async (c) => {
      const input = await readJsonBody(c, viewerEmbeddingSchema);
      const frameOrigins = [...new Set(input.frameOrigins)];
      await setViewerFrameOrigins(c.var.services.db, c.var.org.id, frameOrigins);
      return c.json({ frameOrigins });
    },
  );
