import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import type { CheckpointKey } from "@auditlog/events";
import type { Logger } from "@auditlog/observability";
import { type KeyRing, KeyRingError, parseKeyRing, toBase64 } from "@auditlog/tlog";

/**
 * The checkpoint keys the API publishes (`GET /v1/checkpoint-keys`): the public part of every
 * key of CHECKPOINT_KEY_FILE (a verifier-only copy of the file is enough), re-read when the file
 * changes so that a rotation is published without a restart.
 */
export interface CheckpointKeyDirectory {
  /** The published keys, in file order (retired ones kept, the active one flagged). */
  keys(): CheckpointKey[];
  /** Stops watching the file. */
  close(): void;
}

/** The key file cannot be used: the API refuses to start, with this one-line message. */
export class CheckpointKeyFileError extends Error {
  override name = "CheckpointKeyFileError";
}

/**
 * How often the file is polled for changes. Polling (not inotify) because the file is replaced
 * by a rename on rotation and may sit on a mounted secret volume, where events are unreliable.
 */
const pollIntervalMs = 1000;

function published(ring: KeyRing): CheckpointKey[] {
  // Public parts only: the signer's seed never leaves this function's input.
  return ring.verifiers.map((key) => ({
    name: key.name,
    keyId: key.keyId,
    algorithm: "Ed25519",
    publicKey: toBase64(key.publicKey),
    verifierKey: key.verifierKey,
    active: key.active,
  }));
}

/** Why the file could not be used, without any of its content (it may hold a private key). */
function reason(error: unknown): string {
  if (error instanceof KeyRingError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "it does not exist";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return code ?? "it cannot be read";
}

function parsed(text: string): CheckpointKey[] {
  const keys = published(parseKeyRing(text));
  if (keys.length === 0) throw new KeyRingError("the key file holds no key");
  return keys;
}

/**
 * Reads the key file now (throwing `CheckpointKeyFileError` when it is missing, unreadable or
 * holds no key) and watches it. A later change that does not parse keeps the keys last read and
 * logs a warning: a half-written file must not unpublish the keys.
 */
export function loadCheckpointKeys(
  path: string,
  logger: Pick<Logger, "info" | "warn">,
): CheckpointKeyDirectory {
  let keys: CheckpointKey[];
  try {
    keys = parsed(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CheckpointKeyFileError(
      `cannot use the checkpoint key file ${path} (CHECKPOINT_KEY_FILE): ${reason(error)}; ` +
        "create one with `pnpm auditlog checkpoint-key create`",
    );
  }
  let generation = 0;
  const reload = async () => {
    const mine = ++generation;
    try {
      const next = parsed(await readFile(path, "utf8"));
      // A slower read started before a newer one must not overwrite its result.
      if (mine !== generation) return;
      const changed = JSON.stringify(next) !== JSON.stringify(keys);
      keys = next;
      if (changed) {
        logger.info("checkpoint keys reloaded", { file: path, keyIds: next.map((k) => k.keyId) });
      }
    } catch (error) {
      logger.warn("checkpoint key file not reloaded; still publishing the keys last read", {
        file: path,
        reason: reason(error),
      });
    }
  };
  const onChange = () => void reload();
  watchFile(path, { interval: pollIntervalMs, persistent: false }, onChange);
  return {
    keys: () => keys,
    close: () => unwatchFile(path, onChange),
  };
}
