import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSignerKey, signerKeyFromSeed } from "./note.ts";

/** The name of the test suites' checkpoint key: LOG_ORIGIN's default. */
export const testCheckpointKeyName = "auditlog.localhost";

/**
 * The checkpoint signing key every test process shares: derived from a fixed seed, so a checkpoint
 * signed by one test worker verifies with the key another test API publishes. Never a real key.
 */
export const testCheckpointKey = signerKeyFromSeed(
  testCheckpointKeyName,
  new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff),
);
export const testCheckpointSigner = parseSignerKey(testCheckpointKey);

/**
 * Writes the shared test key file (mode 0600, same bytes every time) and answers its path: what
 * the apps' vitest setup puts in CHECKPOINT_KEY_FILE.
 */
export function testCheckpointKeyFile(): string {
  const path = join(tmpdir(), "auditlog-test-checkpoint-keys");
  writeFileSync(path, `# auditlog test key: never use outside tests\n${testCheckpointKey}\n`, {
    mode: 0o600,
  });
  return path;
}
