import { createDatabase } from "@auditlog/db";
import { migrateDatabase } from "@auditlog/db/migrate";
import { type PrivatePostgres, startPrivatePostgres } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
} from "./support/test-stack.ts";

/**
 * PostgreSQL answers "the database system is starting up" (SQLSTATE 57P03) for a while after a
 * restart; through Prisma's pg adapter that arrives as P2039 "Database error", which once made
 * the API answer 500 on every route that reads through Prisma. Every one must answer a clean 503.
 */
describe("PostgreSQL starting up (57P03, Prisma's P2039)", () => {
  let postgres: PrivatePostgres;
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let orgSlug: string;
  let apiKey: string;
  let token: string;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    const url = postgres.url("auditlog_starting_up");
    await migrateDatabase(url);
    const setup = createDatabase({ url, poolSize: 1, ormPoolSize: 1 });
    try {
      ({
        org: { slug: orgSlug },
        apiKey,
      } = await createOrgWithKey("team", "starting", setup));
      ({ token } = await createMemberWithToken(orgSlug, "admin", setup));
    } finally {
      await setup.close();
    }
    stack = await startTestApi({ DATABASE_URL: url });
    await postgres.startRecovering();
  }, 120_000);
  afterAll(async () => {
    await stack?.services.close();
    await postgres?.destroy();
  });

  it.each([
    "/v1/me",
    "/v1/notifications",
    "/v1/orgs/:org/audit-logs",
    "/v1/orgs/:org/exports",
    "/api/organizations/:org/audit-log/export",
  ])("GET %s answers 503 with the common error body", async (path) => {
    const response = await stack.app.request(path.replace(":org", orgSlug), {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(response.status).toBe(503);
    expect(body.error.code).toBe("service_unavailable");
    expect(body.error.requestId).toMatch(/^req_/);
  });

  it("ingestion with a key this process has not seen yet answers 503", async () => {
    const response = await post(stack.app, apiKey, sampleEvent(1));
    expect(response.status).toBe(503);
  });

  it("sign-in answers 503, and readiness says PostgreSQL is down", async () => {
    const login = await stack.app.request("/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "nobody@example.test", password: "whatever-it-is" }),
    });
    expect(login.status).toBe(503);
    const ready = await stack.app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { postgres: "down" } });
  });
});
