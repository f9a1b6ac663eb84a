import { logVerificationSchema } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, orgParam } from "../openapi/describe.ts";
import { verifyOrganisationLog } from "./verify-log.ts";

// One verification at a time in a process: it reads the whole log and keeps two cores busy
// hashing, which every other request of every tenant would feel if several ran at once.
let running = false;

/**
 * `/v1/orgs/:org/audit-logs/verify`: recomputes the organisation's whole log and checks it
 * against its signed checkpoints and the published keys (README, "Verifying a whole log"). For
 * its admins only, as the log itself.
 */
export const logVerifyRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Transparency",
      summary: "Recompute the whole log and check it against its signed checkpoints",
      description:
        "One verification at a time per API process: 429 with Retry-After while another runs.",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: {
        200: json(logVerificationSchema, "What was checked, and the first problem if any"),
      },
    }),
    async (c) => {
      if (running) {
        throw new ApiError(
          "rate_limited",
          "a log verification is already running on this server; retry in a few seconds",
          undefined,
          { "retry-after": "5" },
        );
      }
      running = true;
      try {
        const { env, db, checkpointKeys } = c.var.services;
        const result = await verifyOrganisationLog({
          db,
          orgId: c.var.org.id,
          // Exactly the keys GET /v1/checkpoint-keys publishes (kept current as the file changes).
          verifiers: checkpointKeys.keys().map((key) => key.verifierKey),
          logOrigin: env.LOG_ORIGIN,
        });
        return c.json(result);
      } finally {
        running = false;
      }
    },
  );
