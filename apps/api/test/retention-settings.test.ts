import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createOrganization, type Plan, upsertUserMembership } from "@auditlog/db";
import { createTestPool, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { retentionSettingsSchema } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { loadApiEnv } from "../src/env.ts";
import { createMemberWithToken, startTestApi, waitFor } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
const password = "correct horse battery staple";
/** Bounds of this deployment: a team default below its maximum, so the two can be told apart. */
const retentionOverrides = {
  RETENTION_TEAM_DEFAULT_DAYS: "90",
  RETENTION_TEAM_MAX_DAYS: "180",
  RETENTION_ENTERPRISE_DEFAULT_DAYS: "365",
  RETENTION_ENTERPRISE_MAX_DAYS: "2557",
};

interface QueuedEvent {
  type: string;
  actor: { type: string; id: string; name: string };
  data: Record<string, unknown>;
  target?: { type: string; id: string };
}

describe("retention and legal hold settings: /v1/orgs/:org/retention", () => {
  let stack: Stack;
  const pool = createTestPool();

  beforeAll(async () => {
    stack = await startTestApi(retentionOverrides);
  });
  afterAll(async () => {
    await stack?.services.close();
    await pool.end();
  });

  const retention = (slug: string) => `/v1/orgs/${slug}/retention`;

  async function newOrg(label: string, plan: Plan = "team") {
    return createOrganization(stack.services.db, { slug: uniqueSlug(label), name: label, plan });
  }

  function call(
    path: string,
    auth: Record<string, string>,
    init: { method?: "GET" | "PUT"; body?: unknown } = {},
  ) {
    return stack.app.request(path, {
      method: init.method ?? "GET",
      headers: {
        ...auth,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  }
  const asToken = (token: string) => ({ authorization: `Bearer ${token}` });

  async function read(slug: string, token: string) {
    const response = await call(retention(slug), asToken(token));
    expect(response.status).toBe(200);
    return retentionSettingsSchema.parse(await response.json());
  }

  async function put(slug: string, token: string, body: unknown) {
    const response = await call(retention(slug), asToken(token), { method: "PUT", body });
    return { status: response.status, body: (await response.json()) as Record<string, never> };
  }

  /** What the API queued for the organisation's log (no worker runs: the jobs stay waiting). */
  async function recorded(orgId: string): Promise<QueuedEvent[]> {
    const jobs = await stack.services.ingestQueue.getJobs(["wait", "delayed", "active"]);
    return jobs
      .filter((job) => job.data.orgId === orgId)
      .sort((a, b) => Number(a.timestamp) - Number(b.timestamp))
      .flatMap((job) => job.data.events as QueuedEvent[])
      .filter((event) => event.type.startsWith("org.audit_log."));
  }

  it("answers the plan's default until an admin chooses, then the choice, within the plan's bounds", async () => {
    const team = await newOrg("ret-team");
    const enterprise = await newOrg("ret-ent", "enterprise");
    const teamAdmin = await createMemberWithToken(team.slug, "admin");
    const entAdmin = await createMemberWithToken(enterprise.slug, "admin");

    expect(await read(team.slug, teamAdmin.token)).toEqual({
      days: 90,
      planDefault: true,
      bounds: { minDays: 1, maxDays: 180, defaultDays: 90 },
      legalHold: false,
      legalHoldReason: null,
      retainedFrom: 1,
    });
    expect(await read(enterprise.slug, entAdmin.token)).toMatchObject({
      days: 365,
      planDefault: true,
      bounds: { minDays: 1, maxDays: 2557, defaultDays: 365 },
    });

    const chosen = await put(team.slug, teamAdmin.token, { days: 30 });
    expect(chosen.status).toBe(200);
    expect(retentionSettingsSchema.parse(chosen.body)).toMatchObject({
      days: 30,
      planDefault: false,
    });
    expect(await read(team.slug, teamAdmin.token)).toMatchObject({ days: 30, planDefault: false });
    // The plan's maximum itself is allowed.
    expect((await put(team.slug, teamAdmin.token, { days: 180 })).status).toBe(200);
    expect((await put(enterprise.slug, entAdmin.token, { days: 2557 })).status).toBe(200);
    // null goes back to following the plan's default.
    const back = await put(team.slug, teamAdmin.token, { days: null });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ days: 90, planDefault: true });
    expect(await read(team.slug, teamAdmin.token)).toMatchObject({ days: 90, planDefault: true });
  });

  it("refuses days outside [1, the plan's maximum] with a 400 naming the field and the bounds", async () => {
    const org = await newOrg("ret-bounds");
    const admin = await createMemberWithToken(org.slug, "admin");
    for (const days of [0, -5, 181, 2557, 100_000, 1.5, "30", false]) {
      const response = await put(org.slug, admin.token, { days });
      expect(response.status, JSON.stringify(days)).toBe(400);
      const error = (
        response.body as unknown as {
          error: { code: string; message: string; details: { path: string; message: string }[] };
        }
      ).error;
      expect(error.code).toBe("validation_failed");
      expect(error.message).toContain("days");
      expect(error.message).toContain("from 1 to 180");
      expect(error.details).toEqual([{ path: "days", message: expect.stringContaining("180") }]);
    }
    // Nothing was stored or recorded.
    expect(await read(org.slug, admin.token)).toMatchObject({ days: 90, planDefault: true });
    expect(await recorded(org.id)).toEqual([]);

    const missing = await put(org.slug, admin.token, {});
    expect(missing.status).toBe(400);
    const unknown = await put(org.slug, admin.token, { days: 10, keepForever: true });
    expect(unknown.status).toBe(400);
  });

  it("lets only admins read or change it: 403 for other members, 404 for strangers, 403 on a plan without audit logs", async () => {
    const org = await newOrg("ret-roles");
    const admin = await createMemberWithToken(org.slug, "admin");
    for (const role of ["read", "write"] as const) {
      const member = await createMemberWithToken(org.slug, role);
      expect((await call(retention(org.slug), asToken(member.token))).status).toBe(403);
      expect((await put(org.slug, member.token, { days: 10 })).status).toBe(403);
    }
    const stranger = await createMemberWithToken((await newOrg("ret-elsewhere")).slug, "admin");
    expect((await call(retention(org.slug), asToken(stranger.token))).status).toBe(404);
    expect((await put(org.slug, stranger.token, { days: 10 })).status).toBe(404);
    expect(await read(org.slug, admin.token)).toMatchObject({ days: 90, planDefault: true });

    const free = await newOrg("ret-free", "free");
    const freeAdmin = await createMemberWithToken(free.slug, "admin");
    for (const response of [
      await call(retention(free.slug), asToken(freeAdmin.token)),
      await call(retention(free.slug), asToken(freeAdmin.token), {
        method: "PUT",
        body: { days: 10 },
      }),
    ]) {
      expect(response.status).toBe(403);
      const { error } = (await response.json()) as { error: { message: string } };
      expect(error.message).toContain("free plan, which has no audit logs");
    }
    expect((await call(retention(org.slug), {})).status).toBe(401);
  });

  it("needs the CSRF token for a change made with a cookie session", async () => {
    const org = await newOrg("ret-csrf");
    const email = `${uniqueSlug("csrf")}@example.test`;
    await upsertUserMembership(stack.services.db, {
      email,
      name: "Casey",
      passwordHash: await hashPassword(password),
      orgSlug: org.slug,
      role: "admin",
    });
    const b = randomBytes(3);
    const login = await stack.app.request(
      "/v1/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      },
      {
        incoming: {
          socket: { remoteAddress: `10.${b[0]}.${b[1]}.${b[2]}`, remoteFamily: "IPv4" },
        },
      },
    );
    expect(login.status).toBe(200);
    const cookie = `auditlog_session=${/auditlog_session=([^;]*)/.exec(login.headers.get("set-cookie") ?? "")?.[1]}`;
    const { csrfToken } = (await login.json()) as { csrfToken: string };

    // Reading needs no token; changing does.
    expect((await call(retention(org.slug), { cookie })).status).toBe(200);
    const refused = await call(
      retention(org.slug),
      { cookie },
      { method: "PUT", body: { days: 7 } },
    );
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      "X-CSRF-Token",
    );
    const wrong = await call(
      retention(org.slug),
      { cookie, "x-csrf-token": `${csrfToken.slice(0, -1)}x` },
      { method: "PUT", body: { legalHold: true, reason: "forged" } },
    );
    expect(wrong.status).toBe(403);
    const accepted = await call(
      retention(org.slug),
      { cookie, "x-csrf-token": csrfToken },
      { method: "PUT", body: { days: 7 } },
    );
    expect(accepted.status).toBe(200);
    const settings = retentionSettingsSchema.parse(await accepted.json());
    expect(settings).toMatchObject({ days: 7, legalHold: false });
    const events = await recorded(org.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "org.audit_log.retention.update",
      actor: { type: "user", name: "Casey" },
      data: { from: 90, to: 7 },
    });
  });

  it("records each change in the organisation's log, and nothing for a value already in force", async () => {
    const org = await newOrg("ret-record");
    const admin = await createMemberWithToken(org.slug, "admin");

    expect((await put(org.slug, admin.token, { days: 30 })).status).toBe(200);
    expect((await put(org.slug, admin.token, { days: 30 })).status).toBe(200);
    expect((await put(org.slug, admin.token, { days: 60 })).status).toBe(200);

    // A hold is placed and lifted with a reason, never without one.
    const noReason = await put(org.slug, admin.token, { legalHold: true });
    expect(noReason.status).toBe(400);
    expect(JSON.stringify(noReason.body)).toContain('"path":"reason"');
    const lonelyReason = await put(org.slug, admin.token, { days: 60, reason: "why" });
    expect(lonelyReason.status).toBe(400);
    const placed = await put(org.slug, admin.token, {
      legalHold: true,
      reason: "Litigation hold, case 2026-114",
    });
    expect(placed.status).toBe(200);
    expect(placed.body).toMatchObject({
      legalHold: true,
      legalHoldReason: "Litigation hold, case 2026-114",
    });
    // On again (even with another reason): already so, nothing recorded, the reason kept.
    expect(
      (await put(org.slug, admin.token, { legalHold: true, reason: "again" })).body,
    ).toMatchObject({ legalHoldReason: "Litigation hold, case 2026-114" });
    expect((await put(org.slug, admin.token, { legalHold: false })).status).toBe(400);
    const lifted = await put(org.slug, admin.token, { legalHold: false, reason: "Case closed" });
    expect(lifted.body).toMatchObject({ legalHold: false, legalHoldReason: null });
    // Both at once: one batch, both recorded.
    expect(
      (await put(org.slug, admin.token, { days: 120, legalHold: true, reason: "Audit" })).status,
    ).toBe(200);

    const events = await waitFor(
      () => recorded(org.id),
      (list) => list.length >= 6,
      5_000,
    );
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ["org.audit_log.retention.update", { from: 90, to: 30 }],
      ["org.audit_log.retention.update", { from: 30, to: 60 }],
      ["org.audit_log.legal_hold.enable", { reason: "Litigation hold, case 2026-114" }],
      ["org.audit_log.legal_hold.disable", { reason: "Case closed" }],
      ["org.audit_log.retention.update", { from: 60, to: 120 }],
      ["org.audit_log.legal_hold.enable", { reason: "Audit" }],
    ]);
    for (const event of events) {
      expect(event.actor).toMatchObject({ type: "token", id: admin.user.id });
      expect(event.target).toMatchObject({ type: "organization", id: org.slug });
    }
    expect(await read(org.slug, admin.token)).toMatchObject({
      days: 120,
      legalHold: true,
      legalHoldReason: "Audit",
    });
  });

  it("clamps a chosen retention to the new plan's maximum after a downgrade", async () => {
    const org = await newOrg("ret-downgrade", "enterprise");
    const admin = await createMemberWithToken(org.slug, "admin");
    expect((await put(org.slug, admin.token, { days: 1000 })).status).toBe(200);
    await pool.query("UPDATE organizations SET plan = 'team' WHERE id = $1", [org.id]);
    expect(await read(org.slug, admin.token)).toMatchObject({
      days: 180,
      planDefault: false,
      bounds: { maxDays: 180, defaultDays: 90 },
    });
    // The same 1000 days is now refused, naming the team plan's bounds.
    const refused = await put(org.slug, admin.token, { days: 1000 });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("from 1 to 180 (the team plan's maximum)");
    // Choosing within the new bounds records the change from what was in force (180).
    expect((await put(org.slug, admin.token, { days: 100 })).status).toBe(200);
    const events = await recorded(org.id);
    expect(events.at(-1)).toMatchObject({ data: { from: 180, to: 100 } });
  });

  it("refuses a deployment whose default retention is above its plan's maximum", () => {
    expect(() =>
      loadApiEnv({ RETENTION_TEAM_DEFAULT_DAYS: "200", RETENTION_TEAM_MAX_DAYS: "180" }),
    ).toThrow(/RETENTION_TEAM_DEFAULT_DAYS \(200\) is above RETENTION_TEAM_MAX_DAYS \(180\)/);
    expect(() => loadApiEnv({ RETENTION_ENTERPRISE_MAX_DAYS: "3000" })).toThrow(
      /RETENTION_ENTERPRISE_MAX_DAYS/,
    );
    expect(loadApiEnv({ RETENTION_TEAM_MAX_DAYS: "365" }).RETENTION_TEAM_MAX_DAYS).toBe(365);
  });

  it("answers where the retained log starts", async () => {
    const org = await newOrg("ret-from");
    const admin = await createMemberWithToken(org.slug, "admin");
    expect((await read(org.slug, admin.token)).retainedFrom).toBe(1);
    await pool.query(
      "INSERT INTO audit_log_heads (org_id, size, retained_from) VALUES ($1, 40, 26)",
      [org.id],
    );
    expect((await read(org.slug, admin.token)).retainedFrom).toBe(26);
  });

  describe("the CLI", () => {
    async function cli(...args: string[]): Promise<Record<string, unknown>> {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", ...args, "--json"],
        {
          cwd: apiDir,
          env: {
            ...process.env,
            ...retentionOverrides,
            DATABASE_URL: testDatabaseUrl,
            INGEST_QUEUE: stack.env.INGEST_QUEUE,
            LOG_LEVEL: "error",
          },
          timeout: 300_000,
        },
      );
      return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    }
    async function cliError(...args: string[]): Promise<string> {
      try {
        await cli(...args);
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
      throw new Error(`the CLI accepted ${args.join(" ")}`);
    }

    // Each run starts a Node process with tsx (seconds each on a loaded machine): few runs, and
    // the refusals in parallel with the one read-only command.
    it("shows and sets retention and legal hold, recorded with the CLI as the actor", {
      timeout: 600_000,
    }, async () => {
      const org = await newOrg("ret-cli");
      const admin = await createMemberWithToken(org.slug, "admin");
      const [shown, tooLong, noReason] = await Promise.all([
        cli("retention", "show", "--org", org.slug),
        cliError("retention", "set", "--org", org.slug, "--days", "181"),
        cliError("legal-hold", "on", "--org", org.slug),
      ]);
      expect(shown).toMatchObject({
        org: org.slug,
        days: 90,
        planDefault: true,
        bounds: { minDays: 1, maxDays: 180, defaultDays: 90 },
        legalHold: false,
        retainedFrom: 1,
      });
      expect(tooLong).toContain(
        "--days must be a whole number of days from 1 to 180 (the team plan's maximum)",
      );
      expect(noReason).toContain("missing --reason");

      expect(await cli("retention", "set", "--org", org.slug, "--days", "45")).toMatchObject({
        days: 45,
        recorded: ["org.audit_log.retention.update"],
      });
      expect(await cli("retention", "set", "--org", org.slug, "--days", "45")).toMatchObject({
        days: 45,
        recorded: [],
      });
      expect(
        await cli("legal-hold", "on", "--org", org.slug, "--reason", "Regulator inquiry"),
      ).toMatchObject({ legalHold: true, legalHoldReason: "Regulator inquiry" });
      expect(await read(org.slug, admin.token)).toMatchObject({
        days: 45,
        legalHold: true,
        legalHoldReason: "Regulator inquiry",
      });
      expect(
        await cli("legal-hold", "off", "--org", org.slug, "--reason", "Inquiry closed"),
      ).toMatchObject({ legalHold: false });

      const events = await recorded(org.id);
      expect(events.map((event) => [event.type, event.data, event.actor])).toEqual([
        [
          "org.audit_log.retention.update",
          { from: 90, to: 45 },
          { type: "system", id: "auditlog-cli", name: "auditlog CLI" },
        ],
        [
          "org.audit_log.legal_hold.enable",
          { reason: "Regulator inquiry" },
          { type: "system", id: "auditlog-cli", name: "auditlog CLI" },
        ],
        [
          "org.audit_log.legal_hold.disable",
          { reason: "Inquiry closed" },
          { type: "system", id: "auditlog-cli", name: "auditlog CLI" },
        ],
      ]);
    });
  });
});
