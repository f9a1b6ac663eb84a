import type { AuditEntryPage } from "@auditlog/events";
import type { InfiniteData } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { makeEntry } from "../../test/fixtures.ts";
import { mockFetch, testOrg } from "../../test/render.tsx";
import { auditLogKeys } from "../features/audit-log/audit-log-queries.ts";
import { sessionKeys } from "../features/auth/session-queries.ts";
import { createQueryClient } from "../query-client.ts";
import { startEarlyRequests } from "./early-requests.ts";
import { primeFirstScreen } from "./first-screen.ts";

const me = {
  user: { id: "usr_1", email: "ada@acme.test", name: "Ada" },
  csrfToken: "csrf",
  organizations: [testOrg],
};
const page: AuditEntryPage = { entries: [makeEntry(0), makeEntry(1)], nextCursor: null };
const listPath = "/v1/orgs/acme/audit-logs";
const location = { pathname: "/orgs/acme/audit-logs", search: "" };

describe("primeFirstScreen: the entry script's answers in the cache before the first render", () => {
  it("holds who is signed in and the first page, each asked for once", async () => {
    const requests = mockFetch(({ url }) => {
      if (url.pathname === "/v1/me") return { body: me };
      if (url.pathname === listPath) return { body: page };
      return undefined;
    });
    startEarlyRequests(location);
    const queryClient = createQueryClient();
    await primeFirstScreen(queryClient, location);
    expect(queryClient.getQueryData(sessionKeys.me)).toEqual(me);
    const list = queryClient.getQueryData<InfiniteData<AuditEntryPage>>(
      auditLogKeys.list("acme", { q: "", types: [] }),
    );
    expect(list?.pages).toEqual([page]);
    expect(requests.map((request) => `${request.url.pathname}${request.url.search}`)).toEqual([
      "/v1/me",
      `${listPath}?limit=100`,
    ]);
  });

  it("does not fill the log of an organisation the session is not a member of", async () => {
    mockFetch(({ url }) => {
      if (url.pathname === "/v1/me") return { body: { ...me, organizations: [] } };
      if (url.pathname === listPath) return { status: 403, body: { error: { code: "forbidden" } } };
      return undefined;
    });
    startEarlyRequests(location);
    const queryClient = createQueryClient();
    await primeFirstScreen(queryClient, location);
    expect(queryClient.getQueryData(sessionKeys.me)).toEqual({ ...me, organizations: [] });
    expect(queryClient.getQueryCache().findAll({ queryKey: auditLogKeys.all("acme") })).toEqual([]);
  });

  it("signed out: the session is null and no page is asked for by the console", async () => {
    const requests = mockFetch(({ url }) =>
      url.pathname === "/v1/me"
        ? { status: 401, body: { error: { code: "unauthorized", message: "sign in" } } }
        : undefined,
    );
    const signInPage = { pathname: "/", search: "" };
    startEarlyRequests(signInPage);
    const queryClient = createQueryClient();
    await primeFirstScreen(queryClient, signInPage);
    expect(queryClient.getQueryData(sessionKeys.me)).toBeNull();
    expect(requests.map((request) => request.url.pathname)).toEqual(["/v1/me"]);
  });
});
