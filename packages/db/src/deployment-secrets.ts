import { type Database, sqlOf } from "./database.ts";

/**
 * The deployment's secret called `name`. When there is none yet, `candidate` (fresh random
 * bytes, at least 32) becomes it — unless another process stored one first, whose secret every
 * caller then gets: insert-if-absent, then read, so all processes agree without coordination.
 */
export async function loadOrCreateDeploymentSecret(
  db: Database,
  name: string,
  candidate: Uint8Array,
): Promise<Buffer> {
  const pool = sqlOf(db);
  await pool.query(
    "INSERT INTO deployment_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    [name, Buffer.from(candidate)],
  );
  const { rows } = await pool.query<{ secret: Buffer }>(
    "SELECT secret FROM deployment_secrets WHERE name = $1",
    [name],
  );
  const secret = rows[0]?.secret;
  if (!secret) throw new Error(`deployment secret "${name}" could not be stored`);
  return secret;
}
