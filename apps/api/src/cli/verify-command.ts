import { createDatabase, findOrganizationBySlug, NotFoundError } from "@auditlog/db";
import { readKeyRing } from "@auditlog/tlog";
import type { ApiEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { type LogVerificationResult, verifyOrganisationLog } from "../transparency/verify-log.ts";

/** What each reason means, for the human-readable output. */
const reasonText = {
  changed: "was changed",
  deleted: "was deleted",
  inserted: "was inserted",
  reordered: "was moved (reordered)",
  checkpoint: "is the tree size of a stored checkpoint that does not verify",
  tile: "has a stored tree hash (tile) that does not match the entries",
} as const;

export function formatVerification(slug: string, result: LogVerificationResult): string {
  if (!result.ok) {
    const { seq, reason, detail } = result.firstBad;
    return `the log of ${slug} is NOT intact: entry ${seq} ${reasonText[reason]}${detail ? `\n  ${detail}` : ""}`;
  }
  const pending = (result.logSize ?? result.treeSize) - result.treeSize;
  const retainedFrom = result.retainedFrom ?? 1;
  return [
    `the log of ${slug} is intact: entries 1 to ${result.treeSize} give the signed root ${result.rootHash}`,
    ...(retainedFrom > 1
      ? [
          `entries 1 to ${retainedFrom - 1} were purged by the retention (their leaf hashes come from the stored tree, which the checkpoints vouch for); the log holds entries from ${retainedFrom} on`,
        ]
      : []),
    ...(pending > 0 ? [`${pending} newer entries are not covered by a checkpoint yet`] : []),
  ].join("\n");
}

/**
 * `pnpm auditlog verify --org <slug> [--json]`: prints the result and answers the exit code
 * (0 intact, 1 not). Trusts only the key file's public keys, not the database.
 */
export async function verifyCommand(
  env: ApiEnv,
  options: { org: string | undefined; json: boolean },
): Promise<number> {
  if (!options.org) throw new ApiError("bad_request", "missing --org");
  const ring = await readKeyRing(env.CHECKPOINT_KEY_FILE).catch((error: Error) => {
    throw new ApiError(
      "service_unavailable",
      `cannot read the checkpoint key file ${env.CHECKPOINT_KEY_FILE}: ${error.message}`,
    );
  });
  // Its own handle: the walk, the tile reads and a diagnosis each hold a connection.
  const db = createDatabase({ url: env.DATABASE_URL, poolSize: 3, ormPoolSize: 1 });
  try {
    const org = await findOrganizationBySlug(db, options.org);
    if (!org) throw new NotFoundError(`organization "${options.org}" does not exist`);
    const result = await verifyOrganisationLog({
      db,
      orgId: org.id,
      verifiers: ring.verifiers,
      logOrigin: env.LOG_ORIGIN,
    });
    console.log(options.json ? JSON.stringify(result) : formatVerification(org.slug, result));
    return result.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}
