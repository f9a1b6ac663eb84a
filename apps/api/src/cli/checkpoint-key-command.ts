import { parseArgs } from "node:util";
import {
  createKeyRing,
  isValidKeyName,
  type KeyRing,
  KeyRingError,
  readKeyRing,
  rotateKeyRing,
  toBase64,
} from "@auditlog/tlog";
import type { ApiEnv } from "../env.ts";

export const checkpointKeyUsage = `  pnpm auditlog checkpoint-key create [--name <name>] [--file <path>] [--json]
  pnpm auditlog checkpoint-key rotate [--name <name>] [--file <path>] [--json]
  pnpm auditlog checkpoint-key list [--file <path>] [--json]`;

export interface CheckpointKeyIo {
  /** The API's configuration: CHECKPOINT_KEY_FILE and LOG_ORIGIN are the defaults. */
  env: () => Pick<ApiEnv, "CHECKPOINT_KEY_FILE" | "LOG_ORIGIN">;
  out: (line: string) => void;
  err: (line: string) => void;
}

class CommandError extends Error {}

/** The public part of the ring's keys, in the shape `GET /v1/checkpoint-keys` publishes. */
function publicKeys(ring: KeyRing) {
  return ring.verifiers.map((key) => ({
    name: key.name,
    keyId: key.keyId,
    algorithm: "Ed25519" as const,
    publicKey: toBase64(key.publicKey),
    verifierKey: key.verifierKey,
    active: key.active,
  }));
}

function activeKey(ring: KeyRing) {
  const key = publicKeys(ring).find((k) => k.active);
  if (!key) throw new CommandError("the key file holds no key");
  return key;
}

async function withFileErrors<T>(
  path: string,
  named: boolean,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    // KeyRingError messages name a line, never its content; fs errors name the path only.
    if (error instanceof KeyRingError) throw new CommandError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CommandError(
        `${path} does not exist: create it with \`pnpm auditlog checkpoint-key create${named ? ` --file ${path}` : ""}\``,
      );
    }
    if (code) throw new CommandError(`${path}: ${code}`);
    throw error;
  }
}

async function run(argv: string[], io: CheckpointKeyIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const [action, extra] = positionals;
  if (extra !== undefined) throw new CommandError(`unexpected argument "${extra}"`);
  let env: ReturnType<CheckpointKeyIo["env"]>;
  try {
    env = io.env();
  } catch (error) {
    throw new CommandError((error as Error).message);
  }
  const file = values.file ?? env.CHECKPOINT_KEY_FILE;
  if (values.name !== undefined && !isValidKeyName(values.name)) {
    throw new CommandError("--name must be non-empty, without spaces or '+'");
  }
  const print = (json: unknown, text: string) => io.out(values.json ? JSON.stringify(json) : text);

  switch (action) {
    case "create": {
      const ring = await withFileErrors(file, values.file !== undefined, () =>
        createKeyRing(file, values.name ?? env.LOG_ORIGIN),
      );
      const key = activeKey(ring);
      print(
        { file, key },
        `created ${file} (mode 0600, keep it secret and backed up): signing key ${key.name} ${key.keyId}\nverifier key: ${key.verifierKey}`,
      );
      return;
    }
    case "rotate": {
      const ring = await withFileErrors(file, values.file !== undefined, () =>
        rotateKeyRing(file, values.name),
      );
      const key = activeKey(ring);
      print(
        { file, key, keys: publicKeys(ring) },
        `rotated ${file}: new signing key ${key.name} ${key.keyId} (workers switch to it within seconds); ${ring.verifiers.length - 1} retired key(s) stay published\nverifier key: ${key.verifierKey}`,
      );
      return;
    }
    case "list": {
      if (values.name !== undefined) throw new CommandError("list takes no --name");
      const ring = await withFileErrors(file, values.file !== undefined, () => readKeyRing(file));
      const keys = publicKeys(ring);
      print(
        { file, signing: ring.signer !== undefined, keys },
        [
          `${file}${ring.signer ? "" : " (public keys only: cannot sign)"}`,
          ...keys.map(
            (key) =>
              `${key.name}  ${key.keyId}  ${key.active ? "active " : "retired"}  ${key.verifierKey}`,
          ),
        ].join("\n"),
      );
      return;
    }
    default:
      throw new CommandError(
        `unknown command "${`checkpoint-key ${action ?? ""}`.trim()}"\nusage:\n${checkpointKeyUsage}`,
      );
  }
}

/**
 * `pnpm auditlog checkpoint-key create|rotate|list`: manages the checkpoint key file. No
 * database: the key must never be where the entries are. Prints public keys only. Answers the
 * exit code (1 with one `error:` line for anything the operator can fix).
 */
export async function checkpointKeyCommand(argv: string[], io: CheckpointKeyIo): Promise<number> {
  try {
    await run(argv, io);
    return 0;
  } catch (error) {
    const known =
      error instanceof CommandError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    io.err(
      `error: ${known ? (error as Error).message : `unexpected failure: ${(error as Error).message?.split("\n")[0]}`}`,
    );
    return 1;
  }
}
