import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { logReadGuard } from "./log-read-guard.ts";
import { checkpointBody, readSizeParam, requireCheckpoint } from "./tree-size-param.ts";

/** `/v1/orgs/:org/audit-logs/checkpoint[?treeSize=N]`: the latest signed tree head, or one. */
export const checkpointRoutes = new Hono<AppEnv>().use(...logReadGuard).get("/", async (c) => {
  const checkpoint = await requireCheckpoint(c, readSizeParam(c, "treeSize"));
  return c.json(checkpointBody(checkpoint));
});
