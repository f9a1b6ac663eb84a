import { createApiKeyRecord, createOrganization, type Plan } from "@auditlog/db";
import {
  createTestPool,
  createTestPrisma,
  prepareTestDatabase,
  testDatabaseUrl,
  uniqueSlug,
} from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { createApp } from "../../src/app.ts";
import { generateApiKey } from "../../src/auth/api-keys.ts";
import { loadApiEnv } from "../../src/env.ts";
import { createServices } from "../../src/services.ts";

/** An API wired to the real test database and Redis, on a queue of its own. */
export async function startTestApi(overrides: Record<string, string> = {}) {
  await prepareTestDatabase();
  const queueName = `test-ingest-${newId("evt").slice(-12)}`;
  const env = loadApiEnv({
    ...process.env,
    DATABASE_URL: testDatabaseUrl,
    INGEST_QUEUE: queueName,
    LOG_LEVEL: "error",
    ...overrides,
  });
  const services = createServices(env);
  const app = createApp(services);
  return { app, services, env, queueName };
}

export async function createOrgWithKey(plan: Plan = "team", label = "org") {
  const prisma = createTestPrisma();
  try {
    const org = await createOrganization(prisma, { slug: uniqueSlug(label), name: label, plan });
    const generated = generateApiKey();
    await createApiKeyRecord(prisma, {
      orgSlug: org.slug,
      name: "test",
      prefix: generated.prefix,
      keyHash: generated.hash,
    });
    return { org, apiKey: generated.key };
  } finally {
    await prisma.$disconnect();
  }
}

export function sampleEvent(index: number, overrides: Record<string, unknown> = {}) {
  return {
    type: "repo.create",
    actor: { type: "user", id: `usr_${index % 7}`, name: `user${index % 7}` },
    target: { type: "model", id: `acme/model-${index}`, name: `acme/model-${index}` },
    data: { repo: { type: "model", name: `acme/model-${index}` } },
    context: { ip: `198.51.100.${index % 250}`, userAgent: "test-agent/1.0" },
    ...overrides,
  };
}

export function post(
  app: ReturnType<typeof createApp>,
  apiKey: string | null,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.request("/v1/events", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function countEntries(orgId: string): Promise<number> {
  const pool = createTestPool();
  try {
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM audit_entries WHERE org_id = $1",
      [orgId],
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await pool.end();
  }
}
