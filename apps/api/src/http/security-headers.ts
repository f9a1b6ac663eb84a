import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../app-env.ts";
import { unframeablePolicy } from "../viewer-links/embed-routes.ts";
import { isApiPath, isDocsPage, isEmbedPath } from "./api-paths.ts";

/**
 * Security headers on every answer (hono/secure-headers): nosniff, no Referer sent anywhere (the
 * console's addresses carry queries and export ids; nothing here relies on Referer), no framing,
 * and HSTS only when `hsts` says the API is served over https (a browser would otherwise pin
 * http://127.0.0.1 to https for a year). The console gets a Content-Security-Policy that allows
 * its own scripts, styles and API and nothing inline (React sets `style` props through the CSSOM,
 * which CSP does not govern); avatars are https images from the events. API answers are data,
 * never documents: their policy allows nothing. The API reference (/docs) is the one page with
 * inline styles (Scalar's components set them) and data: fonts and images of its own; its
 * scripts are still files of this origin only, and it connects only here.
 */
export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler<AppEnv> {
  const common = {
    xContentTypeOptions: "nosniff",
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    strictTransportSecurity: options.hsts ? "max-age=31536000" : false,
  };
  const forApi = secureHeaders({
    ...common,
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  });
  const forConsole = secureHeaders({
    ...common,
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "https:"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  });
  const forDocs = secureHeaders({
    ...common,
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      // Scalar's components set inline styles that carry no nonce (checked in Chromium: with a
      // nonce-only policy parts of the page are blocked). Styles only: scripts stay 'self'.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  });
  // The embeddable viewer (viewer-links/embed-routes.ts) sets its own policy, whose
  // frame-ancestors are the origins its organisation listed; any answer there without one gets
  // the policy that lets nothing frame it, and X-Frame-Options only goes with 'none' (a browser
  // that knows frame-ancestors ignores it, an older one would refuse every ancestor).
  const forEmbed = secureHeaders({ ...common, xFrameOptions: false });
  const embedPolicy = createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const policy = c.res.headers.get("Content-Security-Policy");
    if (!policy) c.res.headers.set("Content-Security-Policy", unframeablePolicy);
    if (!policy || policy.includes("frame-ancestors 'none'")) {
      c.res.headers.set("X-Frame-Options", "DENY");
    }
  });
  return createMiddleware<AppEnv>((c, next) => {
    const path = c.req.path;
    if (isEmbedPath(path)) {
      return forEmbed(c, async () => {
        await embedPolicy(c, next);
      });
    }
    if (isApiPath(path)) return forApi(c, next);
    return isDocsPage(path) ? forDocs(c, next) : forConsole(c, next);
  });
}
