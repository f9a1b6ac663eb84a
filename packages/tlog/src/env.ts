import { fileURLToPath } from "node:url";
import { z } from "zod";
import { isValidKeyName } from "./note.ts";

/** `<repo root>/.data/checkpoint-keys`: where the quick start keeps its key file. */
export const defaultCheckpointKeyFile = fileURLToPath(
  new URL("../../../.data/checkpoint-keys", import.meta.url),
);

/**
 * The checkpoint configuration every process of a deployment shares (each app's env.ts spreads
 * it into its own schema).
 */
export const checkpointEnv = {
  /**
   * The checkpoint key file (`pnpm auditlog checkpoint-key create`): the worker signs with its
   * last PRIVATE+KEY line, the API publishes the public part of every line. Never in the
   * database: whoever can rewrite the entries must not be able to re-sign them. Empty means
   * `<repo root>/.data/checkpoint-keys`.
   */
  CHECKPOINT_KEY_FILE: z
    .string()
    .default("")
    .transform((value) => value || defaultCheckpointKeyFile),
  /**
   * The name of this deployment's log, a host name you control: each organisation's checkpoint
   * origin is `<LOG_ORIGIN>/orgs/<org id>`, and new keys are named after it.
   */
  LOG_ORIGIN: z
    .string()
    .default("auditlog.localhost")
    .refine(
      (value) => isValidKeyName(value) && /^[A-Za-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/.test(value),
      "must be a host name (with an optional path), no spaces or '+'",
    ),
};
