import { type Stats, unwatchFile, watchFile } from "node:fs";
import { type Database, isServiceOutage, listLogsBehind } from "@auditlog/db";
import type { Logger } from "@auditlog/observability";
import { KeyRingError, type NoteSigner, readKeyRing } from "@auditlog/tlog";
import { defaultCheckpointKeyFile } from "@auditlog/tlog/env";
import { advanceLogTrees } from "./log-tree-builder.ts";

/**
 * Organisations extended in one transaction: their entries, tiles and writes share statements,
 * so a pass over 1,000 organisations behind is ten builds, not a thousand.
 */
const orgsPerBuild = 100;

/**
 * The checkpoint key file cannot give this process a signing key. The message names the file
 * and what to do, never a line's content (a line may be a private key).
 */
export class CheckpointKeyError extends Error {
  override name = "CheckpointKeyError";
}

function createCommand(path: string): string {
  const file = path === defaultCheckpointKeyFile ? "" : ` --file ${path}`;
  return `pnpm auditlog checkpoint-key create${file}`;
}

/** The signing key of the key file at `path` (its last PRIVATE+KEY line). */
export async function loadCheckpointSigner(path: string): Promise<NoteSigner> {
  let signer: NoteSigner | undefined;
  try {
    ({ signer } = await readKeyRing(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CheckpointKeyError(
        `checkpoint key file ${path} does not exist: create it with \`${createCommand(path)}\` (or point CHECKPOINT_KEY_FILE at yours)`,
      );
    }
    // KeyRingError names the bad line only; a read error (EACCES, EISDIR) only its code.
    const reason = error instanceof KeyRingError ? error.message : (code ?? "unreadable");
    throw new CheckpointKeyError(`checkpoint key file ${path} cannot be used: ${reason}`);
  }
  if (signer === undefined) {
    throw new CheckpointKeyError(
      `checkpoint key file ${path} holds no signing key (no PRIVATE+KEY line): the worker needs the file made by \`${createCommand(path)}\`, not a copy with public keys only`,
    );
  }
  return signer;
}

export interface CheckpointSignerOptions {
  db: Database;
  logger: Logger;
  /** CHECKPOINT_KEY_FILE. */
  keyFile: string;
  /** LOG_ORIGIN. */
  logOrigin: string;
  /** CHECKPOINT_INTERVAL_MS: the pause between passes. */
  intervalMs: number;
  /** Organisations extended at once (each on its own connection); 1 by default. */
  concurrency?: number;
  /** How often the key file's status is polled for a rotation. */
  keyPollMs?: number;
}

/**
 * Signs checkpoints: each pass lists the organisations whose log is ahead of its tree and
 * extends each tree (tiles, tree head, signed checkpoint in one transaction), and repeats while
 * that made progress, so a burst bigger than one build (50,000 leaves) or more organisations
 * than one listing (1,000) is caught up before the next pause. Several workers may run it: the
 * builder's advisory lock makes all but one skip an organisation.
 *
 * The key is read at start (a missing or public-only key file rejects with CheckpointKeyError)
 * and again whenever the file changes (a rotation takes effect within `keyPollMs`, no restart;
 * a file that cannot be read then keeps the key in use). Failures (a database outage) are
 * logged, once per distinct reason, and the next pass retries.
 */
export async function startCheckpointSigner(options: CheckpointSignerOptions) {
  const { db, logger, keyFile, logOrigin, intervalMs, keyPollMs = 1000, concurrency = 1 } = options;
  let signer = await loadCheckpointSigner(keyFile);
  logger.info("checkpoint signer started", {
    keyFile,
    keyName: signer.name,
    keyId: signer.keyId,
    intervalMs,
  });

  // Reloads run one after another: two quick rotations must end on the last file's key.
  let reloading: Promise<void> = Promise.resolve();
  const onKeyFileChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino) return;
    reloading = reloading.then(async () => {
      try {
        const next = await loadCheckpointSigner(keyFile);
        if (next.verifierKey === signer.verifierKey) return;
        signer = next;
        logger.info("checkpoint key reloaded", { keyName: next.name, keyId: next.keyId });
      } catch (error) {
        logger.error("checkpoint key file changed but cannot be used; signing with the old key", {
          error: (error as Error).message,
          keyId: signer.keyId,
        });
      }
    });
  };
  // Polling the file's status (not inotify): it sees a file replaced by rename, as a rotation
  // does, and works on every filesystem, for a few stat calls a second.
  watchFile(keyFile, { interval: keyPollMs, persistent: false }, onKeyFileChange);

  // Each distinct failure is logged once until a pass succeeds: an outage at two passes a
  // second must not flood the log.
  const failures = new Set<string>();
  const failed = (message: string, fields: Record<string, unknown>) => {
    const key = `${message} ${JSON.stringify(fields)}`;
    if (!failures.has(key)) logger.error(message, fields);
    failures.add(key);
  };

  /** Organisations built one per transaction since a shared build of theirs failed. */
  const isolated = new Set<string>();
  let closed = false;
  /** One pass: repeat while some organisation is behind and this process moved one forward. */
  const pass = async () => {
    for (;;) {
      let behind: Awaited<ReturnType<typeof listLogsBehind>>;
      try {
        behind = await listLogsBehind(db);
      } catch (error) {
        failed("checkpoint signer cannot list the logs behind; retrying", {
          error: (error as Error).message,
        });
        return;
      }
      let progressed = false;
      let failedNow = false;
      // Builds: up to `orgsPerBuild` organisations each, and every organisation whose build
      // failed before in one of its own, so that a log the builder cannot read (a row written
      // behind the triggers' back) holds back no other organisation's checkpoints.
      const shared = behind.filter((log) => !isolated.has(log.orgId)).map((log) => log.orgId);
      const builds: string[][] = behind
        .filter((log) => isolated.has(log.orgId))
        .map((log) => [log.orgId]);
      for (let i = 0; i < shared.length; i += orgsPerBuild) {
        builds.push(shared.slice(i, i + orgsPerBuild));
      }
      let next = 0;
      // `concurrency` lanes take the next build until none is left.
      const lane = async () => {
        while (!closed && next < builds.length) {
          const orgIds = builds[next++] as string[];
          try {
            // The signer of this moment: a reload between two builds applies to the next.
            const results = await advanceLogTrees(db, orgIds, { signer, logOrigin });
            for (const [orgId, result] of results) {
              if (result.treeSize > result.fromSize) progressed = true;
              if (orgIds.length === 1 && !result.error) isolated.delete(orgId);
              // One organisation's failure (its log has a gap: tampered) must not stall the others.
              if (result.error) {
                failedNow = true;
                failed("checkpoint signer could not extend a log; retrying", {
                  orgId,
                  error: result.error.message,
                });
              }
            }
          } catch (error) {
            failedNow = true;
            // Which organisation failed is known only once each is built alone: at once, in
            // the next round of this pass. (An outage fails every build alike: no one to single out.)
            if (orgIds.length > 1 && !isServiceOutage(error)) {
              for (const orgId of orgIds) isolated.add(orgId);
              progressed = true;
            }
            failed(
              orgIds.length === 1
                ? "checkpoint signer could not extend a log; retrying"
                : "checkpoint signer could not extend logs; building each alone",
              {
                ...(orgIds.length === 1 ? { orgId: orgIds[0] } : { orgIds: orgIds.length }),
                error: (error as Error).message,
              },
            );
          }
        }
      };
      const lanes = Math.min(concurrency, builds.length);
      await Promise.all(Array.from({ length: lanes }, lane));
      if (closed) return;
      if (!failedNow && failures.size > 0) {
        logger.info("checkpoint signer recovered");
        failures.clear();
      }
      // Nothing moved: every log behind is locked by another worker or failing. Wait.
      if (!progressed || closed) return;
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      running = pass().finally(() => {
        running = undefined;
        if (!closed) schedule();
      });
    }, intervalMs);
  };
  schedule();

  return {
    /** Stops after the organisation being extended, if any (its transaction commits). */
    async close() {
      closed = true;
      clearTimeout(timer);
      unwatchFile(keyFile, onKeyFileChange);
      await running;
      await reloading;
      logger.info("checkpoint signer stopped");
    },
    /** The key id new checkpoints are signed with (for tests and status output). */
    activeKeyId: () => signer.keyId,
  };
}
