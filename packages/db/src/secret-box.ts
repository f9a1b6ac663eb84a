import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * Secrets the service must keep to use later (a stream's Splunk token or Datadog API key, an
 * alert's Slack webhook URL) are sealed with the deployment's secrets key before they reach
 * PostgreSQL: AES-256-GCM, a fresh 96-bit nonce per seal, the key's id in the sealed text. A copy
 * of the database (a backup, a replica, a dump handed to support) then holds no usable secret.
 *
 * The key file holds one base64 key (32 random bytes) per line: the LAST line seals, every line
 * opens, so a key is rotated by appending a line and re-sealing at leisure.
 */

/** `<repo root>/.data/secrets-key`: where the quick start keeps the key file. */
export const defaultSecretsKeyFile = fileURLToPath(
  new URL("../../../.data/secrets-key", import.meta.url),
);

export const secretsEnv = {
  /**
   * The deployment's secrets key file. Every API and worker process of a deployment must read
   * the same file (the API seals, the worker opens). Created with one fresh key on first use
   * when it does not exist (mode 0600); never in the database. Empty means
   * `<repo root>/.data/secrets-key`.
   */
  SECRETS_KEY_FILE: z
    .string()
    .default("")
    .transform((value) => value || defaultSecretsKeyFile),
};

const sealedPrefix = "v1";

export class SecretBoxError extends Error {}

export interface SecretBox {
  /** The sealed form of `plaintext`, safe to store: `v1.<key id>.<base64url(nonce‖ciphertext‖tag)>`. */
  seal(plaintext: string): string;
  /** The plaintext of a sealed secret; throws SecretBoxError when no key of the file opens it. */
  open(sealed: string): string;
  /** Id of the key that seals (8 hex digits of its SHA-256), for logs and diagnostics. */
  readonly sealingKeyId: string;
}

const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 8);

/** A box over the given keys (the last one seals). */
export function createSecretBox(keys: readonly Buffer[]): SecretBox {
  if (keys.length === 0) throw new SecretBoxError("the secrets key file holds no key");
  for (const key of keys) {
    if (key.length !== 32) throw new SecretBoxError("each secrets key must be 32 bytes (base64)");
  }
  const byId = new Map(keys.map((key) => [keyId(key), key]));
  const sealing = keys[keys.length - 1] as Buffer;
  const sealingKeyId = keyId(sealing);
  return {
    sealingKeyId,
    seal(plaintext) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", sealing, nonce);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url");
      return `${sealedPrefix}.${sealingKeyId}.${sealed}`;
    },
    open(sealed) {
      const [version, id, payload] = sealed.split(".");
      if (version !== sealedPrefix || !id || !payload) {
        throw new SecretBoxError("not a sealed secret");
      }
      const key = byId.get(id);
      // The id only, never the text: a sealed value is not secret, but keep errors short.
      if (!key) throw new SecretBoxError(`sealed with key ${id}, which the secrets key file lacks`);
      const bytes = Buffer.from(payload, "base64url");
      if (bytes.length < 12 + 16) throw new SecretBoxError("sealed secret is truncated");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([
          decipher.update(bytes.subarray(12, bytes.length - 16)),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        throw new SecretBoxError(`sealed secret does not open with key ${id} (altered?)`);
      }
    },
  };
}

function parseKeyFile(text: string): Buffer[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => Buffer.from(line, "base64"));
}

/**
 * The box of the key file at `file`, created with one fresh key when it does not exist yet
 * (exclusive create: two processes starting together end up reading the same key).
 */
export function loadSecretBox(file: string): SecretBox {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(
        file,
        `# auditlog secrets key: the last line seals, every line opens. Keep it out of backups of the database.\n${randomBytes(32).toString("base64")}\n`,
        { flag: "wx", mode: 0o600 },
      );
    } catch (createError) {
      if ((createError as NodeJS.ErrnoException).code !== "EEXIST") throw createError;
    }
    text = readFileSync(file, "utf8");
  }
  return createSecretBox(parseKeyFile(text));
}

/** The last four characters of a secret: what a GET shows of it. */
export function secretHint(secret: string): string {
  return secret.slice(-4);
}
