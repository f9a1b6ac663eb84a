import { readFileSync } from "node:fs";
import { CliFlagError } from "./cli-flag-error.ts";

/**
 * Secrets reach the CLI from a file (`--<name>-file <path>`) or stdin (`--<name>-stdin`), not as
 * arguments: argv is readable by every user of the machine (`ps`, /proc) and stays in shell
 * history.
 */
/** parseArgs values, or any object holding `<name>-file` and `<name>-stdin`. */
export type SecretFlags = object;

const flagValue = (flags: SecretFlags, key: string): unknown =>
  (flags as Record<string, unknown>)[key];

/** Refuses `--<name> <value>` and `--<name>=<value>` before anything else, without repeating the value. */
export function refuseSecretsInArgv(argv: readonly string[], names: readonly string[]): void {
  for (const arg of argv) {
    const name = names.find(
      (candidate) => arg === `--${candidate}` || arg.startsWith(`--${candidate}=`),
    );
    if (name !== undefined) {
      throw new CliFlagError(
        `--${name} is not accepted: arguments are visible to other users (ps); use --${name}-file <path> or --${name}-stdin`,
      );
    }
  }
}

/** How an operator gives the secret `name`, for messages that ask for it. */
export const secretFlagHint = (name: string) => `--${name}-file or --${name}-stdin`;

/** stdin holds one secret: a command with several takes at most one of them from it. */
export function refuseSeveralFromStdin(flags: SecretFlags, names: readonly string[]): void {
  const fromStdin = names.filter((name) => flagValue(flags, `${name}-stdin`) === true);
  if (fromStdin.length > 1) {
    throw new CliFlagError(
      `stdin holds one secret: give only one of ${fromStdin.map((name) => `--${name}-stdin`).join(", ")} and the others as files`,
    );
  }
}

/** The secret `name`, from its file or stdin (a trailing newline dropped); undefined if neither flag is given. */
export function readSecretFlag(
  name: string,
  flags: SecretFlags,
  readStdin: () => string = () => readFileSync(0, "utf8"),
): string | undefined {
  const file = flagValue(flags, `${name}-file`);
  const stdin = flagValue(flags, `${name}-stdin`) === true;
  if (file !== undefined && stdin) {
    throw new CliFlagError(`give either --${name}-file or --${name}-stdin, not both`);
  }
  let text: string;
  if (typeof file === "string") {
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      // The error's code only: never anything the file holds.
      throw new CliFlagError(
        `--${name}-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  } else if (stdin) {
    text = readStdin();
  } else {
    return undefined;
  }
  const secret = text.replace(/\r?\n$/, "");
  if (!secret) {
    throw new CliFlagError(
      `--${name}-${typeof file === "string" ? "file" : "stdin"} holds no secret`,
    );
  }
  return secret;
}
