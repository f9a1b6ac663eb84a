import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { checkpointKeysSchema } from "@auditlog/events";
import { type ExportVerification, verifyExportFile } from "@auditlog/exports";
import {
  fromBase64,
  type NoteVerifier,
  parseKeyRing,
  parseVerifierKey,
  verifierKeyFromPublicKey,
} from "@auditlog/tlog";
import { checkpointEnv } from "@auditlog/tlog/env";
import { z } from "zod";

// `pnpm auditlog verify-export <file> --manifest <file> [--keys <file>] [--log-origin <origin>]
// [--json]`: checks a downloaded export against its signed manifest, offline (no database, no
// network). Exit 0 when it verifies, 1 when it does not or cannot be checked.

export const verifyExportUsage =
  "  pnpm auditlog verify-export <file> --manifest <file> [--keys <file>] [--log-origin <origin>] [--json]";

class VerifyExportUsageError extends Error {}

/**
 * The public keys to verify with, from `--keys`: a key file (verifier lines, or a whole key ring
 * whose private lines are only read for their public half), or the saved JSON of
 * `GET /v1/checkpoint-keys`.
 */
export function parseVerifierKeys(text: string): NoteVerifier[] {
  if (text.trimStart().startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new VerifyExportUsageError("--keys: the file is neither a key file nor JSON");
    }
    const parsed = checkpointKeysSchema.safeParse(json);
    if (!parsed.success) {
      throw new VerifyExportUsageError("--keys: the JSON is not GET /v1/checkpoint-keys' answer");
    }
    return parsed.data.keys.map((key) => {
      const publicKey = fromBase64(key.publicKey);
      if (!publicKey) throw new VerifyExportUsageError(`--keys: key ${key.name} is not base64`);
      const verifier = parseVerifierKey(verifierKeyFromPublicKey(key.name, publicKey));
      // The key id is derived from the name and key: one that differs was not copied faithfully.
      if (verifier.keyId !== key.keyId) {
        throw new VerifyExportUsageError(`--keys: key ${key.name}'s keyId does not match its key`);
      }
      return verifier;
    });
  }
  const verifiers = parseKeyRing(text).verifiers;
  if (verifiers.length === 0) throw new VerifyExportUsageError("--keys: the file holds no key");
  return verifiers;
}

function describe(result: ExportVerification): string {
  const lines: string[] = [];
  if (result.exportId) {
    lines.push(
      `export ${result.exportId} of ${result.orgId}: ${result.format}, ${result.rows} entries, ${
        result.unfiltered ? "unfiltered" : "filtered"
      }, cut at checkpoint ${result.treeSize} (root ${result.rootHash})`,
    );
  }
  const rows: [string, string][] = [
    ["manifest signature", result.checks.manifestSignature],
    ["checkpoint signature", result.checks.checkpointSignature],
    ["file SHA-256", result.checks.fileDigest],
    ["entries", result.checks.entries],
    ["root", result.checks.root],
  ];
  for (const [name, status] of rows) lines.push(`  ${name.padEnd(22)}${status}`);
  for (const note of result.notes) lines.push(`note: ${note}`);
  for (const error of result.errors) lines.push(`error: ${error}`);
  lines.push(result.ok ? "verified" : "NOT VERIFIED");
  return lines.join("\n");
}

export async function runVerifyExportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      manifest: { type: "string" },
      keys: { type: "string" },
      "log-origin": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  try {
    const file = positionals[0];
    if (!file || positionals.length > 1) {
      throw new VerifyExportUsageError(`usage:\n${verifyExportUsage}`);
    }
    if (!values.manifest) throw new VerifyExportUsageError("missing --manifest");
    let manifest: unknown;
    try {
      manifest = JSON.parse(await readFile(values.manifest, "utf8"));
    } catch (error) {
      throw new VerifyExportUsageError(
        `--manifest: cannot read ${values.manifest} as JSON (${(error as Error).message})`,
      );
    }
    // By default the deployment's own key file, of which only the public parts are used.
    const keyFile = values.keys ?? z.object(checkpointEnv).parse(process.env).CHECKPOINT_KEY_FILE;
    let keyText: string;
    try {
      keyText = await readFile(keyFile, "utf8");
    } catch (error) {
      throw new VerifyExportUsageError(
        `cannot read the keys in ${keyFile} (${(error as NodeJS.ErrnoException).code ?? "error"}); pass --keys`,
      );
    }
    let verifiers: NoteVerifier[];
    try {
      verifiers = parseVerifierKeys(keyText);
    } catch (error) {
      throw new VerifyExportUsageError((error as Error).message);
    }
    const result = await verifyExportFile({
      file,
      manifest,
      verifiers,
      ...(values["log-origin"] ? { logOrigin: values["log-origin"] } : {}),
    });
    console.log(values.json ? JSON.stringify(result) : describe(result));
    if (!result.ok) process.exitCode = 1;
  } catch (error) {
    if (!(error instanceof VerifyExportUsageError)) throw error;
    if (values.json) console.log(JSON.stringify({ ok: false, errors: [error.message] }));
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  }
}
