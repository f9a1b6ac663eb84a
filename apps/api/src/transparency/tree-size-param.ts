import { readCheckpoint, type StoredCheckpoint } from "@auditlog/db";
import type { LogCheckpoint } from "@auditlog/events";
import { toBase64 } from "@auditlog/tlog";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/** Digits only, below 2^53: a tree size or leaf count as the tree stores it. */
const sizePattern = /^[0-9]{1,15}$/;

/**
 * A tree-size query parameter: undefined when absent (and not `required`), else a positive
 * integer, or 400 naming the parameter.
 */
export function readSizeParam(c: Context<AppEnv>, name: string, required = false) {
  const text = c.req.query(name);
  if (text === undefined || text === "") {
    if (!required) return undefined;
    throw new ApiError("bad_request", `missing ${name}`, [
      { path: name, message: "required: a tree size that has a checkpoint" },
    ]);
  }
  const size = sizePattern.test(text) ? Number(text) : Number.NaN;
  if (!(size >= 1)) {
    throw new ApiError("bad_request", `invalid ${name}`, [
      { path: name, message: "must be a positive integer (a tree size)" },
    ]);
  }
  return size;
}

/**
 * The signed checkpoint at `treeSize` (the latest when undefined), or 404: only sizes with a
 * signed checkpoint are served, so every proof answered can be checked against a signed root.
 * `param` names the parameter the size came from, for the error's details.
 */
export async function requireCheckpoint(
  c: Context<AppEnv>,
  treeSize: number | undefined,
  param = "treeSize",
): Promise<StoredCheckpoint> {
  const checkpoint = await readCheckpoint(c.var.services.db, c.var.org.id, treeSize);
  if (checkpoint) return checkpoint;
  if (treeSize === undefined) {
    throw new ApiError(
      "not_found",
      `no checkpoint yet: the log of ${c.var.org.slug} has not been signed; retry shortly`,
    );
  }
  throw new ApiError("not_found", `no checkpoint at ${param}=${treeSize}`, [
    {
      path: param,
      message: `no signed checkpoint has tree size ${treeSize}; use a size from GET …/checkpoint`,
    },
  ]);
}

export function checkpointBody(checkpoint: StoredCheckpoint): LogCheckpoint {
  return {
    treeSize: checkpoint.treeSize,
    rootHash: toBase64(checkpoint.rootHash),
    note: checkpoint.note,
    signedAt: checkpoint.signedAt.toISOString(),
  };
}
