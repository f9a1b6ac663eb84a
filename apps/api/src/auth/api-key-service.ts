import { createApiKeyRecord, type Database, listApiKeys } from "@auditlog/db";
import { z } from "zod";
import { generateApiKey } from "./api-keys.ts";

/** A key's label, as the API and the CLI accept it. */
export const apiKeyNameSchema = z.string().trim().min(1, "is required").max(100);

type StoredKey = Awaited<ReturnType<typeof listApiKeys>>[number];

/** What is shown of a key: never its hash, and its value only once, when it is created. */
export function publicApiKey(key: StoredKey) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}

/** A new ingestion key of the organisation: stored as its SHA-256, the value returned once. */
export async function issueApiKey(db: Database, input: { orgSlug: string; name: string }) {
  const generated = generateApiKey();
  const { key, org } = await createApiKeyRecord(db, {
    orgSlug: input.orgSlug,
    name: input.name,
    prefix: generated.prefix,
    keyHash: generated.hash,
  });
  return { key: publicApiKey(key), org, value: generated.key };
}
