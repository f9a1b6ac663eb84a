import { logCheckpointSchema } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { documented, json, orgParam, queryParam } from "../openapi/describe.ts";
import { logReadGuard } from "./log-read-guard.ts";
import { checkpointBody, readSizeParam, requireCheckpoint } from "./tree-size-param.ts";

/** `/v1/orgs/:org/audit-logs/checkpoint[?treeSize=N]`: the latest signed tree head, or one. */
export const checkpointRoutes = new Hono<AppEnv>().use(...logReadGuard).get(
  "/",
  documented({
    tag: "Transparency",
    summary: "The latest signed checkpoint, or the one of a tree size",
    auth: "orgAdmin",
    parameters: [
      orgParam,
      queryParam("treeSize", "A tree size with a signed checkpoint (default: the latest)", {
        type: "string",
        pattern: "^[0-9]{1,15}$",
      }),
    ],
    responses: { 200: json(logCheckpointSchema, "The signed tree head") },
  }),
  async (c) => {
    const checkpoint = await requireCheckpoint(c, readSizeParam(c, "treeSize"));
    return c.json(checkpointBody(checkpoint));
  },
);
