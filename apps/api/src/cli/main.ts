import { parseArgs } from "node:util";
import {
  ConflictError,
  createDatabase,
  createOrganization,
  createPersonalAccessToken,
  type Database,
  findOrganizationBySlug,
  findUserByEmail,
  listApiKeys,
  listDeadLetters,
  loadSecretBox,
  NotFoundError,
  plans,
  revokeApiKey,
  roles,
  setUserPassword,
  upsertUserMembership,
} from "@auditlog/db";
import {
  createErasureRequestSchema,
  deadLetterIdSchema,
  MAX_DEAD_LETTERS_PAGE,
  retentionUpdateSchema,
} from "@auditlog/events";
import { producerFor } from "@auditlog/events/jobs";
import { systemHostLookup } from "@auditlog/events/webhooks";
import { exportStorageFromEnv } from "@auditlog/exports";
import { createLogger } from "@auditlog/observability";
import { createRedisConnection, queueConnection } from "@auditlog/redis";
import { hash } from "@node-rs/argon2";
import { Queue } from "bullmq";
import { z } from "zod";
import type { ApiActor } from "../audit-log/record-api-action.ts";
import { apiKeyNameSchema, issueApiKey, publicApiKey } from "../auth/api-key-service.ts";
import { createDeploymentKeys } from "../auth/deployment-keys.ts";
import { generatePersonalAccessToken } from "../auth/personal-access-tokens.ts";
import { replayDeadLetters } from "../dead-letters/dead-letter-replay.ts";
import { toDeadLetter } from "../dead-letters/dead-letter-routes.ts";
import { type ApiEnv, loadApiEnv } from "../env.ts";
import { erasePerson } from "../erasures/erasure-service.ts";
import { ApiError } from "../errors.ts";
import { changeMemberRole, removeMember } from "../members/member-service.ts";
import { setOrgWebhook } from "../notifications/webhook-config.ts";
import { replicatedQueue } from "../queues/replicated-queue.ts";
import { alertCommand, alertSecretFlags, alertUsage } from "./alert-command.ts";
import { checkpointKeyCommand, checkpointKeyUsage } from "./checkpoint-key-command.ts";
import { CliFlagError } from "./cli-flag-error.ts";
import { deadLettersUsage, describeDeadLetters, describeReplay } from "./dead-letters-command.ts";
import {
  changeRetention,
  describeRetention,
  retentionUsage,
  showRetention,
} from "./retention-command.ts";
import { readSecretFlag, refuseSecretsInArgv } from "./secret-flags.ts";
import { ssoCommand, ssoUsage } from "./sso-command.ts";
import { streamCommand, streamSecretFlags, streamUsage } from "./stream-command.ts";
import { verifyCommand } from "./verify-command.ts";
import { runVerifyExportCommand } from "./verify-export-command.ts";

const usage = `usage:
  pnpm auditlog org create <slug> --name <name> --plan <free|team|enterprise> [--json]
  pnpm auditlog user create <email> --password-file <path>|--password-stdin|--password <pw> --org <slug> --role <${roles.join("|")}> [--name <name>] [--json]
  pnpm auditlog user set-password <email> --password-file <path>|--password-stdin|--password <pw> [--revoke-tokens] [--json]
  pnpm auditlog member set-role --org <slug> --email <email> --role <${roles.join("|")}> [--json]
  pnpm auditlog member remove --org <slug> --email <email> [--json]
  pnpm auditlog key create --org <slug> --name <label> [--json]
  pnpm auditlog key list --org <slug> [--json]
  pnpm auditlog key revoke --org <slug> --key <id> [--json]
  pnpm auditlog token create --email <email> --name <label> [--json]
  pnpm auditlog webhook set --org <slug> --url <url> [--rotate-secret] [--json]
${retentionUsage}
${streamUsage}
${alertUsage}
${ssoUsage}
${checkpointKeyUsage}
${deadLettersUsage}
  pnpm auditlog verify-export <file> --manifest <file> [--keys <file>] [--log-origin <origin>] [--json]
  pnpm auditlog verify --org <slug> [--json]
  pnpm auditlog erase --org <slug> --actor <id> [--json]`;

/** Who the organisation's log says acted, for what an operator does with this CLI. */
const cliActor: ApiActor = { type: "system", id: "auditlog-cli", name: "auditlog CLI" };

/** A mistake the operator can fix: one line on stderr, exit 1. */
class UsageError extends Error {}

const slugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "slug must be lowercase letters, digits and '-'");

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`missing --${flag}`);
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

async function findOrg(db: Database, slug: string) {
  const org = await findOrganizationBySlug(db, slug);
  if (!org) throw new NotFoundError(`organization "${slug}" does not exist`);
  return org;
}

/**
 * `--password <pw>` suits a throwaway local password (the quick start's); a real one comes from
 * `--password-file` or `--password-stdin`, because argv is visible to other users (ps).
 */
function checkedPassword(values: {
  password?: string;
  "password-file"?: string;
  "password-stdin"?: boolean;
}): string {
  const fromFileOrStdin = readSecretFlag("password", values);
  if (fromFileOrStdin !== undefined && values.password !== undefined) {
    throw new UsageError("give --password or --password-file/--password-stdin, not both");
  }
  const password = fromFileOrStdin ?? values.password;
  if (!password) throw new UsageError("missing --password (or --password-file, --password-stdin)");
  if (password.length < 8) {
    const flag =
      values["password-file"] !== undefined
        ? "--password-file"
        : values["password-stdin"]
          ? "--password-stdin"
          : "--password";
    throw new UsageError(`${flag} must be at least 8 characters`);
  }
  return password;
}

/**
 * What recording an action in an organisation's log needs: a producer on the ingest queue, as
 * the API holds one. Opened only by the commands that record, and closed after them.
 */
async function withRecorder<T>(
  env: ApiEnv,
  db: Database,
  action: (services: Parameters<typeof removeMember>[0]) => Promise<T>,
): Promise<T> {
  const redis = createRedisConnection(env, "producer", {
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on("error", () => {});
  const queues = [env.INGEST_QUEUE, env.EXPORT_QUEUE].map((name) => {
    const queue = new Queue(name, { ...queueConnection(redis, name), skipVersionCheck: true });
    queue.on("error", () => {});
    return queue;
  });
  const [ingestQueue, exportQueue] = queues as [Queue, Queue];
  // As the API: on a cluster, recorded once a replica holds the job too.
  const replication = {
    replicas: env.REDIS_CLUSTER_WAIT_REPLICAS,
    timeoutMs: env.REDIS_COMMAND_TIMEOUT_MS / 2,
  };
  try {
    return await action({
      db,
      redis,
      env,
      jobs: {
        ingest: producerFor(replicatedQueue(ingestQueue, redis, replication), "ingest"),
        exports: producerFor(replicatedQueue(exportQueue, redis, replication), "exports"),
      },
      logger: createLogger("cli", env.LOG_LEVEL),
    });
  } finally {
    for (const queue of queues) await queue.close().catch(() => {});
    redis.disconnect();
  }
}

/** An API refusal naming a field, as the flag the operator gave. */
function asUsage(error: unknown): never {
  const detail = error instanceof ApiError ? error.details?.[0] : undefined;
  if (detail && error instanceof ApiError && error.status === 400) {
    throw new UsageError(`--${detail.path} ${detail.message}`);
  }
  throw error;
}

function wholeDays(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw new UsageError("--days must be a whole number of days");
  return Number(value);
}

function pageLimit(value: string | undefined): number {
  if (value === undefined) return 20;
  const limit = /^\d{1,3}$/.test(value) ? Number(value) : 0;
  if (limit < 1 || limit > MAX_DEAD_LETTERS_PAGE) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_DEAD_LETTERS_PAGE}`);
  }
  return limit;
}

function deadLetterIds(values: readonly string[] | undefined): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  for (const id of values) {
    if (!deadLetterIdSchema.safeParse(id).success) {
      throw new UsageError(`--id ${JSON.stringify(id)} is not a dead letter id (decimal digits)`);
    }
  }
  return [...new Set(values)];
}

function checkedHold(legalHold: boolean, reason: string) {
  const parsed = retentionUpdateSchema.safeParse({ legalHold, reason });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `--${issue?.path.join(".") || "reason"} ${issue?.message ?? "is invalid"}`,
    );
  }
  return parsed.data;
}

function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? "invalid value");
  return result.data;
}

async function main(argv: string[]) {
  // Its own options, and no database: the checkpoint key is kept away from the entries.
  if (argv[0] === "checkpoint-key") {
    const io = { env: () => loadApiEnv(), out: console.log, err: console.error };
    process.exit(await checkpointKeyCommand(argv.slice(1), io));
  }
  // Offline (no database, no environment but the key file) and with options of its own.
  if (argv[0] === "verify-export") return runVerifyExportCommand(argv.slice(1));
  // Secrets only from files or stdin (argv is visible in ps): refused before anything else runs.
  if (argv[0] === "sso") refuseSecretsInArgv(argv, ["client-secret"]);
  if (argv[0] === "stream") refuseSecretsInArgv(argv, streamSecretFlags);
  if (argv[0] === "alerts") refuseSecretsInArgv(argv, alertSecretFlags);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      plan: { type: "string" },
      password: { type: "string" },
      "password-file": { type: "string" },
      "password-stdin": { type: "boolean", default: false },
      org: { type: "string" },
      role: { type: "string" },
      email: { type: "string" },
      url: { type: "string" },
      key: { type: "string" },
      days: { type: "string" },
      reason: { type: "string" },
      actor: { type: "string" },
      id: { type: "string", multiple: true },
      limit: { type: "string" },
      // stream create
      type: { type: "string" },
      "token-file": { type: "string" },
      "token-stdin": { type: "boolean", default: false },
      "api-key-file": { type: "string" },
      "api-key-stdin": { type: "boolean", default: false },
      site: { type: "string" },
      "access-key-id": { type: "string" },
      "secret-access-key-file": { type: "string" },
      "secret-access-key-stdin": { type: "boolean", default: false },
      bucket: { type: "string" },
      prefix: { type: "string" },
      region: { type: "string" },
      endpoint: { type: "string" },
      "force-path-style": { type: "boolean", default: false },
      q: { type: "string" },
      "from-seq": { type: "string" },
      // alerts create
      "no-console": { type: "boolean", default: false },
      "notify-email": { type: "boolean", default: false },
      "notify-webhook": { type: "boolean", default: false },
      "slack-url-file": { type: "string" },
      "slack-url-stdin": { type: "boolean", default: false },
      "group-window": { type: "string" },
      // sso set (the client secret only from a file or stdin: argv is visible in ps)
      issuer: { type: "string" },
      "client-id": { type: "string" },
      "client-secret-file": { type: "string" },
      "client-secret-stdin": { type: "boolean", default: false },
      "allowed-domains": { type: "string" },
      "role-claim": { type: "string" },
      "role-rule": { type: "string", multiple: true },
      "default-role": { type: "string" },
      "rotate-secret": { type: "boolean", default: false },
      "revoke-tokens": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const [resource, action, subject] = positionals;
  if (values.help || !resource) {
    console.log(usage);
    return;
  }
  const env = loadApiEnv();
  const db = createDatabase({ url: env.DATABASE_URL, poolSize: 1, ormPoolSize: 1 });
  const print = (json: Record<string, unknown>, text: string) =>
    console.log(values.json ? JSON.stringify(json) : text);
  try {
    const command = `${resource} ${action ?? ""}`.trim();
    switch (command) {
      case "org create": {
        const slug = checked(slugSchema, required(subject, "slug (positional)"));
        const org = await createOrganization(db, {
          slug,
          name: required(values.name, "name"),
          plan: oneOf(required(values.plan, "plan"), plans, "plan"),
        });
        print(
          { id: org.id, slug: org.slug, name: org.name, plan: org.plan },
          `created organization ${org.slug} (${org.id}, plan ${org.plan})`,
        );
        return;
      }
      case "user create": {
        const email = checked(z.email("invalid email"), required(subject, "email (positional)"));
        const password = checkedPassword(values);
        const { user, org, membership } = await upsertUserMembership(db, {
          email,
          name: values.name ?? email.split("@")[0] ?? email,
          passwordHash: await hash(password),
          orgSlug: required(values.org, "org"),
          role: oneOf(required(values.role, "role"), roles, "role"),
        });
        print(
          { id: user.id, email: user.email, org: org.slug, role: membership.role },
          `user ${user.email} (${user.id}) is ${membership.role} of ${org.slug}`,
        );
        return;
      }
      case "user set-password": {
        const email = checked(z.email("invalid email"), required(subject, "email (positional)"));
        const password = checkedPassword(values);
        const changed = await setUserPassword(db, {
          email,
          passwordHash: await hash(password),
          revokeTokens: values["revoke-tokens"],
        });
        if (!changed) throw new NotFoundError(`user "${email.toLowerCase()}" does not exist`);
        print(
          {
            id: changed.user.id,
            email: changed.user.email,
            sessionsEnded: changed.sessionsEnded,
            tokensRevoked: changed.tokensRevoked,
          },
          `password of ${changed.user.email} changed; ${changed.sessionsEnded} session(s) ended, ${changed.tokensRevoked} token(s) revoked`,
        );
        return;
      }
      case "member set-role": {
        const org = await findOrg(db, required(values.org, "org"));
        const email = checked(z.email("invalid email"), required(values.email, "email"));
        const role = oneOf(required(values.role, "role"), roles, "role");
        const user = await findUserByEmail(db, email);
        if (!user) throw new NotFoundError(`user "${email.toLowerCase()}" does not exist`);
        const changed = await withRecorder(env, db, (services) =>
          changeMemberRole(services, { org, userId: user.id, role, actor: cliActor, client: {} }),
        );
        print(
          {
            org: org.slug,
            userId: changed.userId,
            email: changed.email,
            oldRole: changed.oldRole,
            role: changed.role,
          },
          `${changed.email} is now ${changed.role} of ${org.slug} (was ${changed.oldRole})`,
        );
        return;
      }
      case "member remove": {
        const org = await findOrg(db, required(values.org, "org"));
        const email = checked(z.email("invalid email"), required(values.email, "email"));
        const user = await findUserByEmail(db, email);
        if (!user) throw new NotFoundError(`user "${email.toLowerCase()}" does not exist`);
        const removed = await withRecorder(env, db, (services) =>
          removeMember(services, { org, userId: user.id, actor: cliActor, client: {} }),
        );
        print(
          { org: org.slug, userId: removed.userId, email: removed.email, role: removed.role },
          `${removed.email} (${removed.role}) removed from ${org.slug}`,
        );
        return;
      }
      case "key create": {
        const name = checked(apiKeyNameSchema, required(values.name, "name"));
        const { key, org, value } = await issueApiKey(db, {
          orgSlug: required(values.org, "org"),
          name,
        });
        print(
          { id: key.id, org: org.slug, name: key.name, key: value },
          `API key ${key.id} for ${org.slug} (shown once, store it now):\n${value}`,
        );
        return;
      }
      case "key list": {
        const org = await findOrg(db, required(values.org, "org"));
        const keys = (await listApiKeys(db, org.id)).map(publicApiKey);
        const lines = keys.map(
          (key) =>
            `${key.id}  ${key.prefix}…  ${key.name}  created ${key.createdAt.toISOString()}${key.revokedAt ? `  revoked ${key.revokedAt.toISOString()}` : ""}`,
        );
        print({ org: org.slug, keys }, lines.join("\n") || `${org.slug} has no API keys`);
        return;
      }
      case "key revoke": {
        const org = await findOrg(db, required(values.org, "org"));
        const id = required(values.key, "key");
        const revoked = await revokeApiKey(db, { orgId: org.id, id });
        if (!revoked) throw new NotFoundError(`${org.slug} has no API key "${id}"`);
        print(
          { ...publicApiKey(revoked), org: org.slug },
          `API key ${revoked.id} of ${org.slug} revoked (every API process refuses it within 2 seconds)`,
        );
        return;
      }
      case "token create": {
        const email = checked(z.email("invalid email"), required(values.email, "email"));
        const name = required(values.name, "name").trim();
        if (!name || name.length > 100) throw new UsageError("--name must be 1 to 100 characters");
        const user = await findUserByEmail(db, email);
        if (!user) throw new NotFoundError(`user "${email.toLowerCase()}" does not exist`);
        const generated = generatePersonalAccessToken();
        const token = await createPersonalAccessToken(db, {
          userId: user.id,
          name,
          prefix: generated.prefix,
          tokenHash: generated.hash,
        });
        print(
          { id: token.id, email: user.email, name: token.name, token: generated.token },
          `personal access token ${token.id} for ${user.email} (shown once, store it now):\n${generated.token}`,
        );
        return;
      }
      case "webhook set": {
        const org = await findOrg(db, required(values.org, "org"));
        const result = await setOrgWebhook(
          { db, env, lookupHost: systemHostLookup },
          {
            orgId: org.id,
            url: required(values.url, "url"),
            rotateSecret: values["rotate-secret"],
          },
        );
        if (!result.ok) throw new UsageError(`--url ${result.message}`);
        const { webhook, secretIssued } = result;
        print(
          {
            org: org.slug,
            url: webhook.url,
            enabled: webhook.disabledAt === null,
            ...(secretIssued ? { secret: webhook.secret } : {}),
          },
          secretIssued
            ? `webhook of ${org.slug} → ${webhook.url}; signing secret (shown once, store it now):\n${webhook.secret}`
            : `webhook of ${org.slug} → ${webhook.url} (secret unchanged; --rotate-secret issues a new one)`,
        );
        return;
      }
      case "retention show": {
        const org = await findOrg(db, required(values.org, "org"));
        const settings = await showRetention({ db, env }, org);
        print({ org: org.slug, ...settings }, describeRetention(org.slug, settings));
        return;
      }
      case "retention set":
      case "legal-hold on":
      case "legal-hold off": {
        const org = await findOrg(db, required(values.org, "org"));
        // Days are checked against the plan's bounds by the same code as the API's.
        const update =
          resource === "retention"
            ? { days: wholeDays(required(values.days, "days")) }
            : checkedHold(action === "on", required(values.reason?.trim(), "reason"));
        const { settings, recorded } = await withRecorder(env, db, (services) =>
          changeRetention(services, org, update, cliActor),
        ).catch(asUsage);
        print(
          { org: org.slug, ...settings, recorded },
          `${describeRetention(org.slug, settings)}\n${recorded.length > 0 ? `recorded in the log: ${recorded.join(", ")}` : "already so: nothing changed"}`,
        );
        return;
      }
      case "stream create":
      case "stream list":
      case "stream show":
      case "stream pause":
      case "stream resume":
      case "stream delete": {
        const org = await findOrg(db, required(values.org, "org"));
        const { json, text } = await withRecorder(env, db, (services) =>
          streamCommand(
            {
              ...services,
              lookupHost: systemHostLookup,
              secrets: loadSecretBox(env.SECRETS_KEY_FILE),
            },
            { action: action ?? "", org, id: subject, flags: values, actor: cliActor },
          ),
        );
        print(json, text);
        return;
      }
      case "alerts create":
      case "alerts list":
      case "alerts delete": {
        const org = await findOrg(db, required(values.org, "org"));
        const { json, text } = await withRecorder(env, db, (services) =>
          alertCommand(
            {
              ...services,
              lookupHost: systemHostLookup,
              secrets: loadSecretBox(env.SECRETS_KEY_FILE),
            },
            {
              action: action ?? "",
              org,
              id: subject,
              flags: values,
              actor: cliActor,
            },
          ),
        );
        print(json, text);
        return;
      }
      case "sso show":
      case "sso set":
      case "sso require":
      case "sso enable":
      case "sso disable":
      case "sso remove": {
        const org = await findOrg(db, required(values.org, "org"));
        const { json, text } = await withRecorder(env, db, (services) =>
          ssoCommand(
            {
              ...services,
              lookupHost: systemHostLookup,
              secrets: loadSecretBox(env.SECRETS_KEY_FILE),
            },
            { action: action ?? "", org, flags: values, subject, actor: cliActor },
          ),
        );
        print(json, text);
        return;
      }
      case "erase": {
        const org = await findOrg(db, required(values.org, "org"));
        const { actorId } = checked(createErasureRequestSchema, {
          actorId: required(values.actor, "actor"),
        });
        const erasure = await withRecorder(env, db, (services) =>
          erasePerson(
            {
              ...services,
              exportStorage: exportStorageFromEnv(env),
              deploymentKeys: createDeploymentKeys(db),
            },
            { org, actorId, requester: cliActor, client: {} },
          ),
        );
        print(
          erasure,
          `erasure ${erasure.id}: ${actorId} is now ${erasure.pseudonym} in ${org.slug} (${erasure.entries} entries changed, ${erasure.deadLetters} dead letters and ${erasure.exportsDeleted} export files deleted)`,
        );
        return;
      }
      case "dead-letters list": {
        const org = await findOrg(db, required(values.org, "org"));
        const rows = await listDeadLetters(db, { orgId: org.id, limit: pageLimit(values.limit) });
        const deadLetters = rows.map(toDeadLetter);
        print({ org: org.slug, deadLetters }, describeDeadLetters(org.slug, deadLetters));
        return;
      }
      case "dead-letters replay": {
        const org = await findOrg(db, required(values.org, "org"));
        const ids = deadLetterIds(values.id);
        const outcomes = await withRecorder(env, db, (services) =>
          replayDeadLetters(services, { orgId: org.id, ...(ids ? { ids } : {}) }),
        );
        print({ org: org.slug, outcomes }, describeReplay(org.slug, outcomes));
        // An id that is not the organisation's is the operator's mistake: say so in the status.
        if (outcomes.some((outcome) => outcome.status === "not_found")) process.exitCode = 1;
        return;
      }
      case "verify":
        process.exitCode = await verifyCommand(env, { org: values.org, json: values.json });
        return;
      default:
        throw new UsageError(`unknown command "${command}"\n${usage}`);
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    const known =
      error instanceof UsageError ||
      error instanceof CliFlagError ||
      error instanceof ConflictError ||
      error instanceof NotFoundError ||
      error instanceof ApiError;
    const message =
      known || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
        ? (error as Error).message
        : `unexpected failure: ${(error as Error).message?.split("\n")[0] ?? String(error)}`;
    console.error(`error: ${message}`);
    process.exit(1);
  },
);
