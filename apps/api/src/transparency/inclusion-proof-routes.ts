import { logTileReader, readEntrySeq, readRetainedFrom } from "@auditlog/db";
import type { InclusionProof } from "@auditlog/events";
import { inclusionProofSchema } from "@auditlog/events";
import { inclusionProof, readSubtreeHashes, toBase64 } from "@auditlog/tlog";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { documented, json, orgParam, pathParam, queryParam } from "../openapi/describe.ts";
import { logReadGuard } from "./log-read-guard.ts";
import { readSizeParam, requireCheckpoint } from "./tree-size-param.ts";

/**
 * `/v1/orgs/:org/audit-logs/:id/proof[?treeSize=N]`: the RFC 9162 inclusion proof of an entry
 * (leaf index seq − 1) in the tree of a signed checkpoint, the latest one by default.
 */
export const inclusionProofRoutes = new Hono<AppEnv>().use(...logReadGuard).get(
  "/",
  documented({
    tag: "Transparency",
    summary: "RFC 9162 inclusion proof of an entry in a signed tree",
    auth: "orgAdmin",
    parameters: [
      orgParam,
      pathParam("id", "The entry's id", "evt_…"),
      queryParam("treeSize", "A tree size with a signed checkpoint (default: the latest)", {
        type: "string",
        pattern: "^[0-9]{1,15}$",
      }),
    ],
    responses: { 200: json(inclusionProofSchema, "The audit path of leaf seq − 1") },
    errors: [409],
  }),
  async (c) => {
    const { db } = c.var.services;
    const orgId = c.var.org.id;
    const id = c.req.param("id") ?? "";
    const requested = readSizeParam(c, "treeSize");
    const [seq, checkpoint] = await Promise.all([
      readEntrySeq(db, orgId, id),
      requireCheckpoint(c, requested),
    ]);
    if (seq === null) {
      // A purged entry's id is gone with it, so "never stored" and "purged" look alike here; the
      // answer says which places are gone (their leaves still prove the entries that remain).
      const retainedFrom = await readRetainedFrom(db, orgId);
      throw new ApiError(
        "not_found",
        retainedFrom > 1
          ? `entry not found: no such entry, or it was purged by the organisation's retention (entries 1 to ${retainedFrom - 1} were purged; the log holds entries from ${retainedFrom} on)`
          : "entry not found",
      );
    }
    const { treeSize } = checkpoint;
    if (seq > treeSize) {
      // Committed but not yet in that tree: a later checkpoint will cover it (within seconds
      // for the latest one), so this is "not yet", not "never".
      throw new ApiError(
        "conflict",
        requested === undefined
          ? `entry ${id} (seq ${seq}) is not in the latest checkpoint (tree size ${treeSize}) yet; retry shortly`
          : `entry ${id} (seq ${seq}) is not in the tree of size ${treeSize}`,
        [{ path: "treeSize", message: `must be at least ${seq} to include this entry` }],
      );
    }
    const leafIndex = seq - 1;
    const reader = logTileReader(db, orgId);
    const [proof, [leafHash]] = await Promise.all([
      inclusionProof(reader, leafIndex, treeSize),
      readSubtreeHashes(reader, [{ level: 0, index: leafIndex }]),
    ]);
    const body: InclusionProof = {
      leafIndex,
      leafHash: toBase64(leafHash as Uint8Array),
      treeSize,
      proof: proof.map(toBase64),
    };
    return c.json(body);
  },
);
