import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { peerAddress } from "../http/client-address.ts";
import { body, documented } from "../openapi/describe.ts";

/**
 * `GET /metrics` in the Prometheus text format, for a scraper holding METRICS_TOKEN and/or
 * connecting from METRICS_ALLOW_CIDRS; with neither configured it is not there (404).
 */
export const metricsRoutes = new Hono<AppEnv>().get(
  "/metrics",
  documented({
    tag: "Operations",
    summary: "Prometheus metrics",
    description:
      "For a scraper holding METRICS_TOKEN and/or connecting from METRICS_ALLOW_CIDRS; with neither configured the route is not there (404).",
    auth: "metrics",
    responses: { 200: body("text/plain", "The Prometheus text format (version 0.0.4)") },
    errors: [401, 403, 404],
  }),
  async (c) => {
    const { metrics } = c.var.services;
    const access = metrics.access({
      authorization: c.req.header("authorization"),
      peer: peerAddress(c),
    });
    if (access === "disabled") throw new ApiError("not_found", "no such route");
    if (access === "forbidden") {
      throw new ApiError("forbidden", "metrics are not served to this address");
    }
    if (access === "unauthorized") {
      throw new ApiError("unauthorized", "metrics need the scrape token (Bearer)", undefined, {
        "WWW-Authenticate": 'Bearer realm="metrics"',
      });
    }
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "content-type": metrics.registry.contentType });
  },
);
