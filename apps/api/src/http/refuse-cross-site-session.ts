import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/**
 * For GET routes with a side effect (they record an entry in the organisation's log): refuses a
 * request authenticated by the session cookie that the browser marks `Sec-Fetch-Site:
 * cross-site`. SameSite=Lax still sends the cookie on a top-level navigation from another site,
 * so a link there could otherwise make an admin export the log, recorded in their name. Requests
 * by personal access token (no page can make a browser send one), from the console itself
 * (same-origin), typed or bookmarked (`none`) and from clients that send no such header pass.
 * Goes after `userAuth`.
 */
export const refuseCrossSiteSession = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.authMethod === "session" && c.req.header("sec-fetch-site") === "cross-site") {
    throw new ApiError(
      "forbidden",
      "this request came from another site; open it from the console, or use a personal access token",
    );
  }
  await next();
});
