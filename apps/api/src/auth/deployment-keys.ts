import { createHmac, randomBytes } from "node:crypto";
import { type Database, loadOrCreateDeploymentSecret } from "@auditlog/db";

/** What a derived key is for: one key per purpose, so no key is ever used for two things. */
export type KeyPurpose = "export-links" | "rate-limits" | "erasure-pseudonyms";

/**
 * Keys derived from the deployment's random secret (table `deployment_secrets`, created by the
 * first process that needs it). Loaded once per process; a failed load (PostgreSQL down) is
 * retried by the next caller instead of being remembered. The secret and the keys are never
 * logged nor put in an error.
 */
export interface DeploymentKeys {
  key(purpose: KeyPurpose): Promise<Buffer>;
}

const secretName = "deployment";

export function createDeploymentKeys(db: Database): DeploymentKeys {
  let secret: Promise<Buffer> | undefined;
  const derived = new Map<KeyPurpose, Buffer>();
  return {
    async key(purpose) {
      const known = derived.get(purpose);
      if (known) return known;
      secret ??= loadOrCreateDeploymentSecret(db, secretName, randomBytes(32)).catch((error) => {
        secret = undefined;
        throw error;
      });
      const key = createHmac("sha256", await secret)
        .update(`auditlog:${purpose}`)
        .digest();
      derived.set(purpose, key);
      return key;
    },
  };
}
