import {
  type CreateStream,
  createStreamSchema,
  deliveredSinceLastError,
  type LogStream,
  streamDestinationTypes,
} from "@auditlog/events";
import type { ApiActor } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import {
  createStream,
  deleteStream,
  listStreams,
  readStream,
  type StreamServices,
  updateStream,
} from "../streams/stream-service.ts";
import { CliFlagError } from "./cli-flag-error.ts";
import { readSecretFlag, refuseSeveralFromStdin, secretFlagHint } from "./secret-flags.ts";

export const streamUsage = `  pnpm auditlog stream create --org <slug> --type https|splunk|datadog|s3 --name <name>
      [--url <url>] [--token-file <path> | --token-stdin] [--api-key-file <path> | --api-key-stdin]
      [--site <datadog site>] [--access-key-id <id> --bucket <b> [--prefix <p>] [--region <r>]
       --secret-access-key-file <path> | --secret-access-key-stdin
       [--endpoint <url>] [--force-path-style]] [--q <query>] [--from-seq <n>] [--json]
  pnpm auditlog stream list --org <slug> [--json]
  pnpm auditlog stream show|pause|resume|delete --org <slug> <id> [--json]`;

/** The options `stream create` reads (parseArgs values). */
export interface StreamFlags {
  type?: string;
  name?: string;
  url?: string;
  "token-file"?: string;
  "token-stdin"?: boolean;
  "api-key-file"?: string;
  "api-key-stdin"?: boolean;
  site?: string;
  "access-key-id"?: string;
  "secret-access-key-file"?: string;
  "secret-access-key-stdin"?: boolean;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  "force-path-style"?: boolean;
  q?: string;
  "from-seq"?: string;
}

type Org = { id: string; slug: string; name: string };

/** The destination's secrets: given as files or on stdin, never as arguments (see secret-flags.ts). */
export const streamSecretFlags = ["token", "api-key", "secret-access-key"] as const;

/**
 * The flag an API field comes from: `destination.url` → `--url`, `start.seq` → `--from-seq`,
 * `destination.apiKey` → `--api-key-file or --api-key-stdin`.
 */
function flagOf(path: string): string {
  if (path.startsWith("start")) return "--from-seq";
  const field = path.split(".").at(-1) ?? path;
  const name = field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  return (streamSecretFlags as readonly string[]).includes(name)
    ? secretFlagHint(name)
    : `--${name}`;
}

/** An API refusal naming a field, as the flag the operator gave. */
function asFlagError(error: unknown): never {
  const detail = error instanceof ApiError && error.status === 400 ? error.details?.[0] : undefined;
  if (detail) throw new CliFlagError(`${flagOf(detail.path)} ${detail.message}`);
  throw error;
}

/** The create body the flags describe, checked by the API's own schema. */
export function streamBodyFromFlags(flags: StreamFlags, readStdin?: () => string): CreateStream {
  const type = flags.type;
  if (!type) throw new CliFlagError("missing --type");
  if (!(streamDestinationTypes as readonly string[]).includes(type)) {
    throw new CliFlagError(`--type must be one of ${streamDestinationTypes.join(", ")}`);
  }
  if (!flags.name) throw new CliFlagError("missing --name");
  refuseSeveralFromStdin(flags, streamSecretFlags);
  const secret = (name: (typeof streamSecretFlags)[number]) =>
    readSecretFlag(name, flags, readStdin);
  const given = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
  const destination = given({
    type,
    url: flags.url,
    token: secret("token"),
    apiKey: secret("api-key"),
    site: flags.site,
    accessKeyId: flags["access-key-id"],
    secretAccessKey: secret("secret-access-key"),
    bucket: flags.bucket,
    prefix: flags.prefix,
    region: flags.region,
    endpoint: flags.endpoint,
    forcePathStyle: flags["force-path-style"] ? true : undefined,
  });
  let start: CreateStream["start"] = "now";
  if (flags["from-seq"] !== undefined) {
    if (!/^\d{1,15}$/.test(flags["from-seq"])) {
      throw new CliFlagError("--from-seq must be a whole number (the first entry to send)");
    }
    start = { seq: Number(flags["from-seq"]) };
  }
  const parsed = createStreamSchema.safeParse({
    name: flags.name,
    destination,
    q: flags.q ?? "",
    start,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") ?? "";
    // A flag that does not belong to the type (zod names the destination and the key).
    if (issue?.code === "unrecognized_keys") {
      throw new CliFlagError(
        `${issue.keys.map((key) => flagOf(key)).join(", ")} cannot be used with --type ${type}`,
      );
    }
    throw new CliFlagError(`${flagOf(path)} ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data;
}

/** One line an operator reads per stream. */
export function describeStream(stream: LogStream): string {
  const lag =
    stream.lag.entries === 0
      ? "caught up"
      : `${stream.lag.entries} entries behind (${Math.round(stream.lag.seconds)} s)`;
  // The error stays on the stream after it recovers (the API answers it with its time): the
  // line says when it happened and whether a batch has gone through since, so an operator does
  // not chase an error that is over.
  let error = "";
  if (stream.lastError) {
    const at = stream.lastErrorAt ? ` at ${stream.lastErrorAt.replace(/\.\d+Z$/, "Z")}` : "";
    const since = deliveredSinceLastError(stream) ? " (delivered since)" : "";
    error = `; last error${at}${since}: ${stream.lastError}`;
  }
  return `${stream.id}  ${stream.destination.type}  ${stream.state}  "${stream.name}"  delivered through #${stream.deliveredSeq}, ${lag}${error}`;
}

/** `stream …`: the same service as the API's routes, recorded with the CLI as the actor. */
export async function streamCommand(
  services: StreamServices,
  input: {
    action: string;
    org: Org;
    id?: string;
    flags: StreamFlags;
    actor: ApiActor;
    /** Where `--…-stdin` secrets come from (tests give their own). */
    readStdin?: () => string;
  },
): Promise<{ json: Record<string, unknown>; text: string }> {
  const { org, actor } = input;
  const common = { org, actor, client: {} };
  const id = () => {
    if (!input.id)
      throw new CliFlagError(`missing the stream id (stream ${input.action} --org <slug> <id>)`);
    return input.id;
  };
  switch (input.action) {
    case "create": {
      const body = streamBodyFromFlags(input.flags, input.readStdin);
      const created = await createStream(services, { ...common, body }).catch(asFlagError);
      const { stream, signingSecret } = created;
      return {
        json: { org: org.slug, ...stream, ...(signingSecret ? { signingSecret } : {}) },
        text: `created ${describeStream(stream)}${signingSecret ? `\nsigning secret (shown once, give it to the receiver to verify deliveries):\n${signingSecret}` : ""}`,
      };
    }
    case "list": {
      const streams = await listStreams(services, org);
      return {
        json: { org: org.slug, streams },
        text: streams.map(describeStream).join("\n") || `${org.slug} has no streams`,
      };
    }
    case "show": {
      const stream = await readStream(services, org, id());
      return { json: { org: org.slug, ...stream }, text: describeStream(stream) };
    }
    case "pause":
    case "resume": {
      const { stream } = await updateStream(services, {
        ...common,
        id: id(),
        body: { paused: input.action === "pause" },
      });
      return { json: { org: org.slug, ...stream }, text: describeStream(stream) };
    }
    case "delete": {
      await deleteStream(services, { ...common, id: id() });
      return {
        json: { org: org.slug, id: id(), deleted: true },
        text: `stream ${id()} of ${org.slug} deleted`,
      };
    }
    default:
      throw new CliFlagError(`unknown command "stream ${input.action}"`);
  }
}
