import { createHash, randomBytes } from "node:crypto";
import {
  createApiKeyRecord,
  createDatabase,
  createOrganization,
  createPersonalAccessToken,
  upsertUserMembership,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { migrateDatabase } from "@auditlog/db/migrate";
import { startPrivatePostgres } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../src/auth/api-keys.ts";
import { generatePersonalAccessToken } from "../src/auth/personal-access-tokens.ts";
import { sampleEvent, startTestApi } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const maxFailures = 20;

function fromAddress(ip: string) {
  return { incoming: { socket: { remoteAddress: ip, remotePort: 40000, remoteFamily: "IPv4" } } };
}
function randomIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}
const randomSecret = () => randomBytes(32).toString("base64url");

/**
 * Credentials nobody was ever given, against a PostgreSQL of the test's own that counts every
 * statement (pg_stat_statements): what each flood costs the database is counted, not timed.
 */
describe("unauthenticated requests and the database", () => {
  let postgres: Awaited<ReturnType<typeof startPrivatePostgres>>;
  let stack: Stack;
  let pool: ReturnType<typeof driversOf>["pool"];
  let validToken = "";
  let validKey = "";

  /** SELECTs run so far that look a credential up by its hash in `table`. */
  async function lookups(table: string): Promise<number> {
    const { rows } = await pool.query<{ calls: string }>(
      `SELECT coalesce(sum(calls), 0)::text AS calls FROM pg_stat_statements
        WHERE query ~* '^\\s*select' AND query ~* $1 AND query ~* '(token|key)_hash'`,
      [`\\m${table}\\M`],
    );
    return Number(rows[0]?.calls ?? 0);
  }

  const asToken = (token: string) => ({ authorization: `Bearer ${token}` });
  const asCookie = (value: string) => ({ cookie: `auditlog_session=${value}` });

  function me(headers: Record<string, string>, ip = randomIp()) {
    return stack.app.request("/v1/me", { headers }, fromAddress(ip));
  }
  function ingest(key: string, ip = randomIp()) {
    return stack.app.request(
      "/v1/events",
      {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(sampleEvent(1)),
      },
      fromAddress(ip),
    );
  }

  beforeAll(async () => {
    postgres = await startPrivatePostgres(undefined, {
      shared_preload_libraries: "pg_stat_statements",
    });
    const url = postgres.url("auditlog_flood");
    await migrateDatabase(url);
    const setup = createDatabase({ url, poolSize: 1, ormPoolSize: 1 });
    pool = driversOf(setup).pool;
    await pool.query("CREATE EXTENSION pg_stat_statements");
    await createOrganization(setup, { slug: "flood", name: "Flood", plan: "team" });
    const { user } = await upsertUserMembership(setup, {
      email: "flood@example.test",
      name: "Flood",
      passwordHash: "unused",
      orgSlug: "flood",
      role: "admin",
    });
    const token = generatePersonalAccessToken();
    await createPersonalAccessToken(setup, {
      userId: user.id,
      name: "t",
      prefix: token.prefix,
      tokenHash: token.hash,
    });
    validToken = token.token;
    const key = generateApiKey();
    await createApiKeyRecord(setup, {
      orgSlug: "flood",
      name: "k",
      prefix: key.prefix,
      keyHash: key.hash,
    });
    validKey = key.key;
    stack = await startTestApi({
      DATABASE_URL: url,
      AUTH_MAX_FAILURES: String(maxFailures),
      AUTH_FAILURE_WINDOW_SECONDS: "60",
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack?.services.close();
    await pool?.end();
    await postgres?.destroy();
  });

  it("a flood of the same unknown token, cookie or key costs one lookup each", async () => {
    await pool.query("SELECT pg_stat_statements_reset()");
    const token = `alp_${randomSecret()}`;
    const cookie = randomSecret();
    const key = `alk_${randomSecret()}`;
    const answers = await Promise.all([
      ...Array.from({ length: 50 }, () => me(asToken(token))),
      ...Array.from({ length: 50 }, () => me(asCookie(cookie))),
      ...Array.from({ length: 50 }, () => ingest(key)),
    ]);
    expect(answers.map((response) => response.status)).toEqual(Array(150).fill(401));
    // And 20 times more, one after the other (Prisma batches concurrent lookups into one
    // statement, so only these show each request's own cost): answered from memory.
    for (let i = 0; i < 20; i++) {
      expect((await me(asToken(token))).status).toBe(401);
      expect((await me(asCookie(cookie))).status).toBe(401);
      expect((await ingest(key)).status).toBe(401);
    }
    expect(await lookups("personal_access_tokens")).toBe(1);
    expect(await lookups("sessions")).toBe(1);
    expect(await lookups("api_keys")).toBe(1);
  });

  it("limits failed authentication per address: 429 with Retry-After, before the database", async () => {
    await pool.query("SELECT pg_stat_statements_reset()");
    const ip = randomIp();
    for (let i = 0; i < maxFailures; i++) {
      const response = await me(asToken(`alp_${randomSecret()}`), ip);
      expect(response.status).toBe(401);
    }
    const limited = await me(asToken(`alp_${randomSecret()}`), ip);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get("ratelimit-policy")).toMatch(
      new RegExp(`^"auth-failures";q=${maxFailures};w=\\d+$`),
    );
    expect(limited.headers.get("ratelimit")).toMatch(/^"auth-failures";r=0;t=\d+$/);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    // Every kind of credential from that address, until the window ends.
    expect((await me(asCookie(randomSecret()), ip)).status).toBe(429);
    expect((await ingest(`alk_${randomSecret()}`, ip)).status).toBe(429);
    expect(await lookups("personal_access_tokens")).toBe(maxFailures);
    expect(await lookups("sessions")).toBe(0);
    expect(await lookups("api_keys")).toBe(0);

    // Other addresses are not affected; a key this process already knows is not looked up.
    expect((await me(asToken(validToken))).status).toBe(200);
    expect((await ingest(validKey)).status).toBe(202);
    expect((await ingest(validKey, ip)).status).toBe(202);

    // The shared counter's Redis key is an HMAC: neither the address nor its SHA-256.
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await stack.services.redis.scan(
        cursor,
        "MATCH",
        "auditlog:*",
        "COUNT",
        1000,
      );
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    const sha256 = createHash("sha256").update(ip).digest("hex");
    expect(keys.filter((key) => key.includes(ip) || key.includes(sha256))).toEqual([]);
    expect(keys.some((key) => key.startsWith("auditlog:auth-failures:"))).toBe(true);
  });
});
