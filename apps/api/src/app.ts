import { Hono } from "hono";
import { ApiError, errorResponse, handleError } from "./errors.ts";
import { requestId } from "./middleware/request-id.ts";
import { auditLogRoutes } from "./routes/audit-logs.ts";
import { authRoutes } from "./routes/auth.ts";
import { eventsRoutes } from "./routes/events.ts";
import { exportDownloadRoutes, exportRoutes } from "./routes/exports.ts";
import { healthRoutes } from "./routes/health.ts";
import { hubExportRoutes } from "./routes/hub-export.ts";
import { meRoutes } from "./routes/me.ts";
import { notificationRoutes } from "./routes/notifications.ts";
import { orgWebhookRoutes } from "./routes/org-webhook.ts";
import type { Services } from "./services.ts";
import type { AppEnv } from "./types.ts";
import { consoleStatic } from "./web/console-static.ts";

export function createApp(services: Services) {
  const app = new Hono<AppEnv>()
    .use(requestId)
    .use(async (c, next) => {
      c.set("services", services);
      await next();
    })
    .route("/", healthRoutes)
    .route("/v1/events", eventsRoutes)
    .route("/v1/auth", authRoutes)
    .route("/v1/me", meRoutes)
    .route("/v1/notifications", notificationRoutes)
    .route("/v1/orgs/:org/webhook", orgWebhookRoutes)
    .route("/v1/orgs/:org/audit-logs", auditLogRoutes)
    .route("/v1/orgs/:org/exports", exportRoutes)
    .route("/v1/export-downloads", exportDownloadRoutes)
    .route("/api/organizations/:org/audit-log/export", hubExportRoutes);
  // Last: the web console (and its SPA fallback) for every GET no route above answered.
  app.get("*", consoleStatic(services.env.WEB_DIST_DIR));
  app.notFound((c) => errorResponse(c, new ApiError("not_found", "no such route")));
  app.onError(handleError);
  return app;
}

export type AppType = ReturnType<typeof createApp>;
