import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";

const acceptable = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reuses a caller's X-Request-Id when it is safe to echo, so logs can be joined across hops. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && acceptable.test(incoming) ? incoming : `req_${crypto.randomUUID()}`;
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  await next();
});
