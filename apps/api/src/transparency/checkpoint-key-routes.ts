import type { CheckpointKeys } from "@auditlog/events";
import { checkpointKeysSchema } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { documented, json } from "../openapi/describe.ts";

/**
 * `/v1/checkpoint-keys`, public: the keys checkpoints are signed with, retired ones included (a
 * checkpoint signed before a rotation must stay verifiable). Read from CHECKPOINT_KEY_FILE.
 */
export const checkpointKeyRoutes = new Hono<AppEnv>().get(
  "/",
  documented({
    tag: "Transparency",
    summary: "The keys checkpoints are signed with",
    description:
      "Public. Retired keys stay listed: a checkpoint signed before a rotation must stay verifiable.",
    auth: "none",
    responses: { 200: json(checkpointKeysSchema, "Every key, current and retired") },
  }),
  (c) => {
    // Revalidated on every use: after a rotation, new checkpoints are signed by the new key.
    c.header("Cache-Control", "no-cache");
    const body: CheckpointKeys = { keys: c.var.services.checkpointKeys.keys() };
    return c.json(body);
  },
);
