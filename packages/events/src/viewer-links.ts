import { z } from "zod";
import { auditEntrySchema } from "./entry.ts";

/**
 * Scoped viewer links and the embeddable viewer (issue 20). An admin creates a link bound to a
 * `q` filter and an expiry; its token (`avl_…`, shown once) lets whoever holds it read the
 * organisation's entries that match the filter, nothing else.
 */
export const viewerLinkTokenPrefix = "avl_";
/** The longest a link may live. */
export const maxViewerLinkDays = 365;
export const maxViewerLinksPerOrg = 200;
export const maxViewerFrameOrigins = 20;

/** `POST /v1/orgs/:org/viewer-links`. */
export const createViewerLinkSchema = z.strictObject({
  name: z
    .string({ error: "is required" })
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters"),
  /** The filter every holder query is ANDed with; must not be empty (checked by the API). */
  q: z.string({ error: "is required" }).max(2000, "must be at most 2,000 characters"),
  expiresAt: z.iso.datetime({ error: "must be an ISO 8601 date-time", offset: true }),
});
export type CreateViewerLink = z.infer<typeof createViewerLinkSchema>;

/** A link as the organisation's admins see it (never its token after creation). */
export const viewerLinkSchema = z.object({
  id: z.string(),
  name: z.string(),
  q: z.string(),
  /** The token's first characters, to tell links apart. */
  tokenPrefix: z.string(),
  createdBy: z.object({ id: z.string(), name: z.string() }),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  status: z.enum(["active", "expired", "revoked"]),
  /** The embeddable viewer's address; the holder appends `#<token>`. */
  embedUrl: z.string(),
});
export type ViewerLink = z.infer<typeof viewerLinkSchema>;

/** The answer to a creation: the one time the token is shown. */
export const createdViewerLinkSchema = viewerLinkSchema.extend({
  token: z.string(),
  /** `embedUrl#token`: what a host puts in its iframe's `src`. */
  embedSrc: z.string(),
});
export type CreatedViewerLink = z.infer<typeof createdViewerLinkSchema>;

export const viewerLinkListSchema = z.object({ links: z.array(viewerLinkSchema) });

/**
 * An origin a host product frames the viewer from: `https://host[:port]` (or `http://` for a
 * local host), exactly as a browser serialises it, no path.
 */
export const frameOriginSchema = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === text;
  } catch {
    return false;
  }
}, "must be an origin such as https://app.example.com (scheme, host and port only)");

/** `GET`/`PUT /v1/orgs/:org/viewer-embedding`. */
export const viewerEmbeddingSchema = z.strictObject({
  frameOrigins: z
    .array(frameOriginSchema)
    .max(maxViewerFrameOrigins, `must hold at most ${maxViewerFrameOrigins} origins`),
});
export type ViewerEmbedding = z.infer<typeof viewerEmbeddingSchema>;

/** `GET /v1/viewer`: what a link shows, for its holder. */
export const viewerScopeSchema = z.object({
  organization: z.object({ slug: z.string(), name: z.string() }),
  name: z.string(),
  q: z.string(),
  expiresAt: z.iso.datetime(),
});
export type ViewerScope = z.infer<typeof viewerScopeSchema>;

/** `GET /v1/viewer/entries`: a page of the link's entries. */
export const viewerEntryPageSchema = z.object({
  entries: z.array(auditEntrySchema),
  nextCursor: z.string().nullable(),
});
