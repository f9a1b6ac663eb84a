import { logTileReader } from "@auditlog/db";
import type { ConsistencyProof } from "@auditlog/events";
import { consistencyProofSchema } from "@auditlog/events";
import { consistencyProof, toBase64 } from "@auditlog/tlog";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { documented, json, orgParam, queryParam } from "../openapi/describe.ts";
import { logReadGuard } from "./log-read-guard.ts";
import { readSizeParam, requireCheckpoint } from "./tree-size-param.ts";

/**
 * `/v1/orgs/:org/audit-logs/consistency?from=N&to=M`: the RFC 9162 consistency proof that the
 * tree of M leaves extends the tree of N, both sizes with a signed checkpoint.
 */
export const consistencyRoutes = new Hono<AppEnv>().use(...logReadGuard).get(
  "/",
  documented({
    tag: "Transparency",
    summary: "RFC 9162 consistency proof between two signed tree sizes",
    auth: "orgAdmin",
    parameters: [
      orgParam,
      queryParam(
        "from",
        "The smaller tree size (with a signed checkpoint)",
        { type: "string", pattern: "^[0-9]{1,15}$" },
        true,
      ),
      queryParam(
        "to",
        "The larger tree size (with a signed checkpoint)",
        { type: "string", pattern: "^[0-9]{1,15}$" },
        true,
      ),
    ],
    responses: { 200: json(consistencyProofSchema, "The proof that `to` extends `from`") },
  }),
  async (c) => {
    const from = readSizeParam(c, "from", true) as number;
    const to = readSizeParam(c, "to", true) as number;
    if (from > to) {
      throw new ApiError("bad_request", "from is after to", [
        { path: "from", message: `must be at most to (${to})` },
      ]);
    }
    await Promise.all([requireCheckpoint(c, from, "from"), requireCheckpoint(c, to, "to")]);
    const reader = logTileReader(c.var.services.db, c.var.org.id);
    const proof = await consistencyProof(reader, from, to);
    const body: ConsistencyProof = { fromSize: from, toSize: to, proof: proof.map(toBase64) };
    return c.json(body);
  },
);
