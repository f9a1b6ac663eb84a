import { findViewerLinkFrameOrigins } from "@auditlog/db";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { viewerScript, viewerStyles } from "./embed-assets.ts";

/** A policy that allows nothing to frame the answer: what every answer here starts with. */
export const unframeablePolicy = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The viewer page's policy: its own script, styles and API only; framed by `ancestors`. */
function pagePolicy(ancestors: string[]): string {
  const frameAncestors = ancestors.length > 0 ? ancestors.join(" ") : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
}

const linkIdPattern = /^vwl_[0-9a-f]{24}$/;

function page(linkId: string, message?: string): string {
  const body = message
    ? `<p role="alert" class="error">${message}</p>`
    : `<p role="status">Loading…</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audit log</title>
<link rel="stylesheet" href="/embed/viewer.css">
</head>
<body>
<main id="viewer" data-link="${linkId}">${body}</main>
${message ? "" : '<script type="module" src="/embed/viewer.js"></script>'}
</body>
</html>
`;
}

/**
 * `/embed/viewer/:link`: the embeddable viewer, a page meant to be framed by the product that
 * hosts the log (issue 20). Its `frame-ancestors` are the origins the link's organisation
 * listed (`PUT /v1/orgs/:org/viewer-embedding`); with none listed, or for a link that does not
 * exist, nothing may frame it. The token is in the fragment (`#avl_…`): the page itself is no
 * secret, the script sends the token to `/v1/viewer` as a bearer credential. A revoked or
 * expired link answers 401 with a message the host's frame can show.
 *
 * HTML, not API operations: listed with the console's files in the OpenAPI test's exceptions.
 */
export const embedRoutes = new Hono<AppEnv>()
  .get("/viewer.js", (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    c.header("Content-Security-Policy", unframeablePolicy);
    return c.body(viewerScript);
  })
  .get("/viewer.css", (c) => {
    c.header("Content-Type", "text/css; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    c.header("Content-Security-Policy", unframeablePolicy);
    return c.body(viewerStyles);
  })
  .get("/viewer/:link", async (c) => {
    const linkId = c.req.param("link");
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "text/html; charset=utf-8");
    const found = linkIdPattern.test(linkId)
      ? await findViewerLinkFrameOrigins(c.var.services.db, linkId, new Date())
      : null;
    if (!found) {
      c.header("Content-Security-Policy", unframeablePolicy);
      return c.body(page("", "No such viewer link."), 404);
    }
    c.header("Content-Security-Policy", pagePolicy(found.frameOrigins));
    if (!found.usable) {
      return c.body(page(linkId, "This viewer link has expired or was revoked."), 401);
    }
    return c.body(page(linkId));
  });
