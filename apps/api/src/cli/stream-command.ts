import {
  type CreateStream,
  createStreamSchema,
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

export const streamUsage = `  pnpm auditlog stream create --org <slug> --type https|splunk|datadog|s3 --name <name>
      [--url <url>] [--token <HEC token>] [--api-key <key>] [--site <datadog site>]
      [--access-key-id <id> --secret-access-key <key> --bucket <b> [--prefix <p>] [--region <r>]
       [--endpoint <url>] [--force-path-style]] [--q <query>] [--from-seq <n>] [--json]
  pnpm auditlog stream list --org <slug> [--json]
  pnpm auditlog stream show|pause|resume|delete --org <slug> <id> [--json]`;

/** The options `stream create` reads (parseArgs values). */
export interface StreamFlags {
  type?: string;
  name?: string;
  url?: string;
  token?: string;
  "api-key"?: string;
  site?: string;
  "access-key-id"?: string;
  "secret-access-key"?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  "force-path-style"?: boolean;
  q?: string;
  "from-seq"?: string;
}

type Org = { id: string; slug: string; name: string };

/** The flag an API field comes from: `destination.apiKey` → `--api-key`, `start.seq` → `--from-seq`. */
function flagOf(path: string): string {
  if (path.startsWith("start")) return "--from-seq";
  const field = path.split(".").at(-1) ?? path;
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** An API refusal naming a field, as the flag the operator gave. */
function asFlagError(error: unknown): never {
  const detail = error instanceof ApiError && error.status === 400 ? error.details?.[0] : undefined;
  if (detail) throw new CliFlagError(`${flagOf(detail.path)} ${detail.message}`);
  throw error;
}

/** The create body the flags describe, checked by the API's own schema. */
export function streamBodyFromFlags(flags: StreamFlags): CreateStream {
  const type = flags.type;
  if (!type) throw new CliFlagError("missing --type");
  if (!(streamDestinationTypes as readonly string[]).includes(type)) {
    throw new CliFlagError(`--type must be one of ${streamDestinationTypes.join(", ")}`);
  }
  if (!flags.name) throw new CliFlagError("missing --name");
  const given = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
  const destination = given({
    type,
    url: flags.url,
    token: flags.token,
    apiKey: flags["api-key"],
    site: flags.site,
    accessKeyId: flags["access-key-id"],
    secretAccessKey: flags["secret-access-key"],
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
  const error = stream.lastError ? `; last error: ${stream.lastError}` : "";
  return `${stream.id}  ${stream.destination.type}  ${stream.state}  "${stream.name}"  delivered through #${stream.deliveredSeq}, ${lag}${error}`;
}

/** `stream …`: the same service as the API's routes, recorded with the CLI as the actor. */
export async function streamCommand(
  services: StreamServices,
  input: { action: string; org: Org; id?: string; flags: StreamFlags; actor: ApiActor },
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
      const body = streamBodyFromFlags(input.flags);
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
