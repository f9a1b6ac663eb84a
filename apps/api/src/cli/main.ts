import { parseArgs } from "node:util";
import {
  ConflictError,
  createApiKeyRecord,
  createDatabase,
  createOrganization,
  createPersonalAccessToken,
  findOrganizationBySlug,
  findUserByEmail,
  NotFoundError,
  plans,
  roles,
  upsertUserMembership,
} from "@auditlog/db";
import { systemHostLookup } from "@auditlog/events/webhooks";
import { hash } from "@node-rs/argon2";
import { z } from "zod";
import { generateApiKey } from "../auth/api-keys.ts";
import { generatePersonalAccessToken } from "../auth/personal-access-tokens.ts";
import { loadApiEnv } from "../env.ts";
import { setOrgWebhook } from "../notifications/webhook-config.ts";

const usage = `usage:
  pnpm auditlog org create <slug> --name <name> --plan <free|team|enterprise> [--json]
  pnpm auditlog user create <email> --password <pw> --org <slug> --role <admin|write|read> [--name <name>] [--json]
  pnpm auditlog key create --org <slug> --name <label> [--json]
  pnpm auditlog token create --email <email> --name <label> [--json]
  pnpm auditlog webhook set --org <slug> --url <url> [--rotate-secret] [--json]`;

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

function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? "invalid value");
  return result.data;
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      plan: { type: "string" },
      password: { type: "string" },
      org: { type: "string" },
      role: { type: "string" },
      email: { type: "string" },
      url: { type: "string" },
      "rotate-secret": { type: "boolean", default: false },
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
        const password = required(values.password, "password");
        if (password.length < 8) throw new UsageError("--password must be at least 8 characters");
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
      case "key create": {
        const generated = generateApiKey();
        const { key, org } = await createApiKeyRecord(db, {
          orgSlug: required(values.org, "org"),
          name: required(values.name, "name"),
          prefix: generated.prefix,
          keyHash: generated.hash,
        });
        print(
          { id: key.id, org: org.slug, name: key.name, key: generated.key },
          `API key ${key.id} for ${org.slug} (shown once, store it now):\n${generated.key}`,
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
        const slug = required(values.org, "org");
        const org = await findOrganizationBySlug(db, slug);
        if (!org) throw new NotFoundError(`organization "${slug}" does not exist`);
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
      default:
        throw new UsageError(`unknown command "${command}"\n${usage}`);
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const known =
      error instanceof UsageError ||
      error instanceof ConflictError ||
      error instanceof NotFoundError;
    const message =
      known || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
        ? (error as Error).message
        : `unexpected failure: ${(error as Error).message?.split("\n")[0] ?? String(error)}`;
    console.error(`error: ${message}`);
    process.exit(1);
  },
);
