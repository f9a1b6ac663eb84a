import { anonymizeIp } from "@auditlog/events/ip";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../app-env.ts";
import type { Services } from "../services.ts";
import { peerAddress } from "./client-address.ts";

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * One log line and one observation per request, after its answer is ready. The route is the
 * pattern that answered (`/v1/orgs/:org/audit-logs/:id`), never the raw path, so ids cannot
 * multiply the metrics' series; the method is one of the standard ones or `OTHER`. The client
 * appears only as its network (/24 or /48). Streamed answers (live streams, downloads) are
 * timed to their headers, not to their end.
 */
export const requestTelemetry = ({ env, logger, metrics }: Services) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!env.METRICS && !env.LOG_REQUESTS) return next();
    const started = performance.now();
    await next();
    const method = knownMethods.has(c.req.method) ? c.req.method : "OTHER";
    const route = routePath(c) || "unmatched";
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    if (env.METRICS) {
      const labels = { method, route, status: String(status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
    }
    if (env.LOG_REQUESTS) {
      const org = c.get("org")?.slug ?? c.get("ingestOrg")?.slug;
      const peer = peerAddress(c);
      const fields = {
        method,
        route,
        status,
        durationMs: Math.round(seconds * 10_000) / 10,
        requestId: c.get("requestId"),
        ...(org ? { org } : {}),
        ...(peer ? { clientNetwork: anonymizeIp(peer) } : {}),
      };
      if (status >= 500) logger.error("request", fields);
      else logger.info("request", fields);
    }
  });
