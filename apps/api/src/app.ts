import { Hono } from "hono";
import { alertRoutes } from "./alerts/alert-routes.ts";
import type { AppEnv } from "./app-env.ts";
import { auditLogRoutes } from "./audit-log/audit-log-routes.ts";
import { feedRoutes } from "./audit-log/feed-routes.ts";
import { hubExportRoutes } from "./audit-log/hub-export-routes.ts";
import { apiKeyRoutes } from "./auth/api-key-routes.ts";
import { authRoutes } from "./auth/auth-routes.ts";
import { meRoutes } from "./auth/me-routes.ts";
import { deadLetterRoutes } from "./dead-letters/dead-letter-routes.ts";
import { erasureRoutes } from "./erasures/erasure-routes.ts";
import { ApiError, errorResponse, handleError } from "./errors.ts";
import { exportDownloadRoutes, exportRoutes } from "./exports/export-routes.ts";
import { healthRoutes } from "./health/health-routes.ts";
import { metricsRoutes } from "./health/metrics-routes.ts";
import { compressAnswers } from "./http/compression.ts";
import { refuseNulInUrl } from "./http/refuse-unstorable.ts";
import { requestId } from "./http/request-id.ts";
import { requestTelemetry } from "./http/request-telemetry.ts";
import { securityHeaders } from "./http/security-headers.ts";
import { ingestRoutes } from "./ingest/ingest-routes.ts";
import { memberRoutes } from "./members/member-routes.ts";
import { notificationRoutes } from "./notifications/notification-routes.ts";
import { orgWebhookRoutes } from "./notifications/webhook-routes.ts";
import { docsRoutes } from "./openapi/docs-routes.ts";
import { retentionRoutes } from "./retention/retention-routes.ts";
import { savedViewRoutes } from "./saved-views/saved-view-routes.ts";
import type { Services } from "./services.ts";
import { ssoConfigRoutes, ssoSignInRoutes } from "./sso/sso-routes.ts";
import { streamRoutes } from "./streams/stream-routes.ts";
import { checkpointKeyRoutes } from "./transparency/checkpoint-key-routes.ts";
import { checkpointRoutes } from "./transparency/checkpoint-routes.ts";
import { consistencyRoutes } from "./transparency/consistency-routes.ts";
import { inclusionProofRoutes } from "./transparency/inclusion-proof-routes.ts";
import { logVerifyRoutes } from "./transparency/verify-routes.ts";
import { embedRoutes } from "./viewer-links/embed-routes.ts";
import { viewerEmbeddingRoutes, viewerLinkRoutes } from "./viewer-links/viewer-link-routes.ts";
import { viewerRoutes } from "./viewer-links/viewer-routes.ts";
import { consoleStatic } from "./web/console-static.ts";

export function createApp(services: Services) {
  const app = new Hono<AppEnv>()
    .use(requestId)
    // Around everything else: the request's one log line and its metrics.
    .use(requestTelemetry(services))
    .use(securityHeaders({ hsts: services.env.SECURITY_HSTS }))
    .use(async (c, next) => {
      c.set("services", services);
      await next();
    })
    .use(refuseNulInUrl)
    // JSON answers of 1 KB and more, brotli or gzip (http/compression.ts); the log's pages are
    // the largest (about 70 KB for 100 entries, a tenth of that compressed). Not /v1/me and
    // /v1/auth (the CSRF token: BREACH), nor an organisation's webhook settings (its signing
    // secret), nor ingestion (small answers on the hot path).
    .use("/v1/*", compressAnswers({ skip: uncompressedPaths }))
    .use("/api/*", compressAnswers())
    .route("/", healthRoutes)
    .route("/", metricsRoutes)
    .route("/v1/events", ingestRoutes)
    .route("/v1/auth/sso", ssoSignInRoutes)
    .route("/v1/auth", authRoutes)
    .route("/v1/me", meRoutes)
    .route("/v1/notifications", notificationRoutes)
    .route("/v1/orgs/:org/webhook", orgWebhookRoutes)
    .route("/v1/orgs/:org/keys", apiKeyRoutes)
    .route("/v1/orgs/:org/members", memberRoutes)
    .route("/v1/orgs/:org/sso", ssoConfigRoutes)
    .route("/v1/checkpoint-keys", checkpointKeyRoutes)
    // Before the entry routes, whose `/:id` would otherwise answer `/feed` or `/checkpoint`.
    .route("/v1/orgs/:org/audit-logs/feed", feedRoutes)
    .route("/v1/orgs/:org/audit-logs/checkpoint", checkpointRoutes)
    .route("/v1/orgs/:org/audit-logs/consistency", consistencyRoutes)
    .route("/v1/orgs/:org/audit-logs/:id/proof", inclusionProofRoutes)
    .route("/v1/orgs/:org/audit-logs/verify", logVerifyRoutes)
    .route("/v1/orgs/:org/audit-logs", auditLogRoutes)
    .route("/v1/orgs/:org/exports", exportRoutes)
    .route("/v1/orgs/:org/views", savedViewRoutes)
    .route("/v1/orgs/:org/retention", retentionRoutes)
    .route("/v1/orgs/:org/erasures", erasureRoutes)
    .route("/v1/orgs/:org/dead-letters", deadLetterRoutes)
    .route("/v1/orgs/:org/streams", streamRoutes)
    .route("/v1/orgs/:org/alerts", alertRoutes)
    // Scoped viewer links (issue 20): managed by admins; read by their holders (`avl_` tokens).
    .route("/v1/orgs/:org/viewer-links", viewerLinkRoutes)
    .route("/v1/orgs/:org/viewer-embedding", viewerEmbeddingRoutes)
    .route("/v1/viewer", viewerRoutes)
    .route("/embed", embedRoutes)
    .route("/v1/export-downloads", exportDownloadRoutes)
    .route("/api/organizations/:org/audit-log/export", hubExportRoutes);
  // The OpenAPI document of every route above, and its rendered reference.
  app.route("/", docsRoutes(app, { publicUrl: services.env.PUBLIC_URL }));
  // Last: the web console (and its SPA fallback) for every GET no route above answered.
  app.get("*", consoleStatic(services.env.WEB_DIST_DIR));
  app.notFound((c) => errorResponse(c, new ApiError("not_found", "no such route")));
  app.onError(handleError);
  return app;
}

const uncompressedPaths = (path: string) =>
  /^\/v1\/(me|auth|events)(\/|$)|^\/v1\/orgs\/[^/]+\/(webhook|sso)(\/|$)/.test(path);

export type AppType = ReturnType<typeof createApp>;
