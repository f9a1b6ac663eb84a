import type { CheckpointKeys } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";

/**
 * `/v1/checkpoint-keys`, public: the keys checkpoints are signed with, retired ones included (a
 * checkpoint signed before a rotation must stay verifiable). Read from CHECKPOINT_KEY_FILE.
 */
export const checkpointKeyRoutes = new Hono<AppEnv>().get("/", (c) => {
  // Revalidated on every use: after a rotation, new checkpoints are signed by the new key.
  c.header("Cache-Control", "no-cache");
  const body: CheckpointKeys = { keys: c.var.services.checkpointKeys.keys() };
  return c.json(body);
});
