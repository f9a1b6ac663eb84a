import { type MemberRole, memberRoles, permissions, roleCan } from "@auditlog/events";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppEnv } from "../src/app-env.ts";
import { requireOrgRole } from "../src/auth/require-org-role.ts";
import { type Access, refusal, routePolicy } from "../src/auth/role-policy.ts";
import { userAuth } from "../src/auth/user-auth.ts";
import { handleError } from "../src/errors.ts";
import { createMemberWithToken, createOrgWithKey, startTestApi } from "./support/test-stack.ts";

/**
 * The role matrix (issue 20): every route the app registers × every caller — a member of each
 * role (admin, auditor, write, read), a signed-in person who is not a member (`outsider`), and
 * no credential at all (`none`) — is called, and each answer must be what the role policy
 * (src/auth/role-policy.ts) says: through the guard for an allowed role, 403 with the ApiError
 * body for a refused one, 404 (like a missing organisation) for an outsider, 401 for none. A
 * route missing from the policy, or a policy entry for no route, fails the test.
 *
 * Allowed calls send deliberately empty input (`{}`, unknown ids): the guard runs before the
 * handler's validation, so "through the guard" is any answer but 401 and 403, and no call
 * changes anything that the next one depends on.
 */
type Stack = Awaited<ReturnType<typeof startTestApi>>;
type Caller = MemberRole | "outsider" | "none";
const callers: readonly Caller[] = [...memberRoles, "outsider", "none"];

interface Answer {
  status: number;
  body: unknown;
}

describe("the role matrix", () => {
  let stack: Stack;
  let slug: string;
  const tokens = new Map<Caller, string>();
  const answers = new Map<string, Map<Caller, Answer>>();
  let routes: string[] = [];

  beforeAll(async () => {
    stack = await startTestApi();
    const { org } = await createOrgWithKey("team", "roles");
    slug = org.slug;
    for (const role of memberRoles)
      tokens.set(role, (await createMemberWithToken(slug, role)).token);
    // Someone signed in, an admin elsewhere, but no member of this organisation.
    const { org: elsewhere } = await createOrgWithKey("team", "elsewhere");
    tokens.set("outsider", (await createMemberWithToken(elsewhere.slug, "admin")).token);

    routes = [
      ...new Set(
        stack.app.routes
          // Middleware (`use`) registers as ALL; operations have a method.
          .filter((route) => route.method !== "ALL")
          .map((route) => `${route.method} ${route.path}`),
      ),
    ];
    for (const route of routes) {
      const row = new Map<Caller, Answer>();
      for (const caller of callers) row.set(caller, await call(route, caller));
      answers.set(route, row);
    }
  });
  afterAll(async () => {
    await stack.services.close();
  });

  async function call(route: string, caller: Caller): Promise<Answer> {
    const [method, path] = route.split(" ") as [string, string];
    const url = path
      .replace(":org", slug)
      .replace(":userId", "usr_not_a_member")
      .replace(/:id\b/g, "not-an-id")
      .replace("/*", "/some/console/page");
    const headers: Record<string, string> = {};
    const token = tokens.get(caller);
    if (token) headers.authorization = `Bearer ${token}`;
    const unsafe = method !== "GET" && method !== "HEAD";
    if (unsafe) headers["content-type"] = "application/json";
    const response = await stack.app.request(url, {
      method,
      headers,
      ...(unsafe ? { body: "{}" } : {}),
    });
    const type = response.headers.get("content-type") ?? "";
    // Error answers are read; anything else (files, exports, the live stream) is let go.
    if (response.status >= 400 && type.startsWith("application/json")) {
      return { status: response.status, body: await response.json() };
    }
    await response.body?.cancel();
    return { status: response.status, body: null };
  }

  const accessOf = (route: string): Access | undefined =>
    Object.hasOwn(routePolicy, route) ? routePolicy[route as keyof typeof routePolicy] : undefined;

  it("has a policy for every registered route, and none for a route that is not", () => {
    expect(routes.filter((route) => accessOf(route) === undefined)).toEqual([]);
    expect(Object.keys(routePolicy).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it("answers every route × every role as the policy says", () => {
    const wrong: string[] = [];
    let cells = 0;
    const expectCell = (route: string, caller: Caller, ok: boolean, want: string) => {
      cells += 1;
      if (!ok) {
        const got = answers.get(route)?.get(caller);
        wrong.push(
          `${route} as ${caller}: want ${want}, got ${got?.status} ${JSON.stringify(got?.body)}`,
        );
      }
    };
    const error = (answer: Answer) => (answer.body as { error?: Record<string, unknown> })?.error;

    for (const route of routes) {
      const access = accessOf(route);
      const row = answers.get(route);
      if (!access || !row) continue; // reported by the test above
      const answer = (caller: Caller) => row.get(caller) as Answer;
      // Through the guard, and handled: an allowed call never fails the server.
      const through = (caller: Caller) =>
        ![401, 403].includes(answer(caller).status) && answer(caller).status < 500;

      if ((permissions as readonly string[]).includes(access)) {
        const permission = access as (typeof permissions)[number];
        for (const role of memberRoles) {
          if (roleCan(role, permission)) {
            expectCell(route, role, through(role), "through the guard (not 401/403)");
          } else {
            const got = answer(role);
            const body = error(got);
            expectCell(
              route,
              role,
              got.status === 403 &&
                body?.code === "forbidden" &&
                body?.message === refusal(permission, slug) &&
                typeof body?.requestId === "string",
              `403 forbidden "${refusal(permission, slug)}"`,
            );
          }
        }
        const outsider = answer("outsider");
        expectCell(
          route,
          "outsider",
          outsider.status === 404 && error(outsider)?.message === "organization not found",
          "404 organization not found",
        );
        const none = answer("none");
        expectCell(
          route,
          "none",
          none.status === 401 && error(none)?.code === "unauthorized",
          "401 unauthorized",
        );
        continue;
      }
      const persons = callers.filter((caller) => caller !== "none");
      switch (access) {
        case "signedIn": {
          // Any person, whatever their roles, gets what an admin gets (POST /v1/me/tokens asks
          // for a cookie session, so a token gets its 403 whoever holds it); none gets 401.
          const admin = answer("admin");
          for (const caller of persons) {
            expectCell(
              route,
              caller,
              answer(caller).status === admin.status &&
                error(answer(caller))?.code === error(admin)?.code &&
                answer(caller).status !== 401,
              `${admin.status} ${String(error(admin)?.code ?? "")}, as an admin (not 401)`,
            );
          }
          expectCell(route, "none", answer("none").status === 401, "401");
          break;
        }
        case "apiKey":
        case "viewerLink":
          // A person's token is no ingestion key nor viewer link, whatever their role.
          for (const caller of callers) {
            expectCell(route, caller, answer(caller).status === 401, "401");
          }
          break;
        case "public":
        case "metrics":
        case "signedLink": {
          // Credentials change nothing: every caller gets what no credential gets, and a public
          // route lets it through.
          const baseline = answer("none").status;
          for (const caller of callers) {
            expectCell(
              route,
              caller,
              answer(caller).status === baseline && (access !== "public" || through(caller)),
              `${baseline}, as without a credential`,
            );
          }
          break;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(cells).toBe(routes.length * callers.length);
    const count = (permission: string) =>
      routes.filter((route) => accessOf(route) === permission).length;
    console.log(
      `role matrix: ${routes.length} routes × ${callers.length} callers = ${cells} cells asserted (${count("readLog")} readLog, ${count("administer")} administer, ${routes.length - count("readLog") - count("administer")} outside organisations)`,
    );
  });

  /**
   * The matrix as issue 20 states it, written out here rather than read from the policy, so a
   * wrong policy entry fails too: admins may do everything; auditors read every organisation
   * route but the admin-only ones (secrets, credentials, members, refused events) and change
   * nothing but their own exports and saved views; write and read members may do nothing.
   */
  it("gives each role exactly what the issue says", () => {
    const adminOnlyReads = [
      "GET /v1/orgs/:org/webhook",
      "GET /v1/orgs/:org/keys",
      "GET /v1/orgs/:org/dead-letters",
      "GET /v1/orgs/:org/members",
      // Viewer links are credentials to the log, and the framing origins go with them.
      "GET /v1/orgs/:org/viewer-links",
      "GET /v1/orgs/:org/viewer-embedding",
      "GET /v1/orgs/:org/sso",
    ];
    const auditorChanges = [
      "POST /v1/orgs/:org/exports",
      "POST /v1/orgs/:org/exports/:id/link",
      "POST /v1/orgs/:org/views",
      "DELETE /v1/orgs/:org/views/:id",
    ];
    const orgRoutes = routes.filter((route) => route.includes(":org"));
    expect(orgRoutes.length).toBeGreaterThan(40);
    const passed = (route: string, caller: Caller) => {
      const status = answers.get(route)?.get(caller)?.status ?? 403;
      return status !== 401 && status !== 403;
    };
    const column = (caller: Caller) => orgRoutes.filter((route) => passed(route, caller)).sort();
    expect(column("admin")).toEqual([...orgRoutes].sort());
    expect(column("auditor")).toEqual(
      orgRoutes
        .filter((route) =>
          route.startsWith("GET ")
            ? !adminOnlyReads.includes(route)
            : auditorChanges.includes(route),
        )
        .sort(),
    );
    expect(column("write")).toEqual([]);
    expect(column("read")).toEqual([]);
    expect(column("none")).toEqual([]);
  });

  it("states each organisation operation's roles in the OpenAPI document", async () => {
    const document = (await (await stack.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { "x-roles"?: string[]; description?: string }>>;
    };
    const stated: Record<string, string[] | undefined> = {};
    const wanted: Record<string, string[] | undefined> = {};
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1")}`;
        const access = accessOf(route);
        stated[route] = operation["x-roles"];
        wanted[route] =
          access === "readLog" || access === "administer"
            ? memberRoles.filter((role) => roleCan(role, access))
            : undefined;
        if (wanted[route]) {
          expect(operation.description).toMatch(
            new RegExp(`^Roles: ${wanted[route]?.join(", ")}\\.`),
          );
        }
      }
    }
    expect(stated).toEqual(wanted);
    expect(stated["PUT /v1/orgs/:org/retention"]).toEqual(["admin"]);
    expect(stated["GET /v1/orgs/:org/audit-logs"]).toEqual(["admin", "auditor"]);
  });

  it("refuses a route the policy does not name to every role, admins included (fail closed)", async () => {
    const unnamed = new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set("services", stack.services);
        c.set("requestId", "req_unnamed");
        await next();
      })
      .get("/v1/orgs/:org/unnamed", userAuth, requireOrgRole(), (c) => c.json({ ok: true }));
    unnamed.onError(handleError);
    for (const role of memberRoles) {
      const response = await unnamed.request(`/v1/orgs/${slug}/unnamed`, {
        headers: { authorization: `Bearer ${tokens.get(role)}` },
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
        `no role of ${slug} may use this route`,
      );
    }
  });
});
