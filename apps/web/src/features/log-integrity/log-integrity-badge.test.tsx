import type { AuditEntry } from "@auditlog/events";
import { generateSignerKey, parseSignerKey } from "@auditlog/tlog";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it } from "vitest";
import { mockFetch, renderWithQueryClient, testOrg } from "../../../test/render.tsx";
import { logEntries, publishedKey, type SignedLog, signedLog } from "../../../test/signed-log.ts";
import { EntryInclusion } from "./entry-inclusion.tsx";
import { LogIntegrityBadge } from "./log-integrity-badge.tsx";
import { trustStorageKey } from "./trust-store.ts";

// The components over the network boundary only: fetch answers what the API would, from a log
// built and signed with tlog's Node code; the checks run on WebCrypto as in the browser.

const now = Date.parse("2026-03-01T13:00:00Z");

/** Serves one log's latest checkpoint (of `size` entries) and keys as the API routes would. */
function serve(log: SignedLog | null, size = log?.entries.length ?? 0, keys = [publishedKey()]) {
  return mockFetch(({ url }) => {
    if (url.pathname === "/v1/checkpoint-keys") return { body: { keys } };
    if (log && url.pathname === `/v1/orgs/${testOrg.slug}/audit-logs/checkpoint`) {
      return { body: log.checkpoint(size) };
    }
    return undefined;
  });
}

describe("LogIntegrityBadge", () => {
  let log: SignedLog;
  let rewritten: SignedLog;
  let rewrittenProof: string[];
  beforeAll(async () => {
    log = await signedLog(logEntries(12));
    const other = logEntries(12);
    const first = other[0] as AuditEntry;
    other[0] = { ...first, actor: { ...first.actor, id: "usr_mallory" } };
    rewritten = await signedLog(other);
    rewrittenProof = await rewritten.consistency(8, 12);
  });

  it("shows the verified state, then a rewritten log as inconsistent with what it saw", async () => {
    serve(log, 8);
    const first = renderWithQueryClient(<LogIntegrityBadge org={testOrg} now={now} />);
    expect(await screen.findByRole("button", { name: /Verified through entry 8 ·/ })).toBeTruthy();
    expect(
      JSON.parse(window.localStorage.getItem(trustStorageKey(testOrg.id)) ?? "{}"),
    ).toMatchObject({
      treeSize: 8,
      rootHash: log.checkpoint(8).rootHash,
    });
    await userEvent.click(screen.getByRole("button", { name: /Verified through entry 8/ }));
    const panel = screen.getByRole("region", { name: "Log verification" });
    expect(within(panel).getByText(/first check in this browser/)).toBeTruthy();
    expect(within(panel).getByText(log.checkpoint(8).rootHash)).toBeTruthy();
    first.unmount();

    // Next visit: the server now shows another history of 12 entries. Its consistency "proof"
    // cannot connect it to the checkpoint of 8 this browser verified.
    mockFetch(({ url }) => {
      if (url.pathname === "/v1/checkpoint-keys") return { body: { keys: [publishedKey()] } };
      if (url.pathname.endsWith("/checkpoint")) return { body: rewritten.checkpoint(12) };
      if (url.pathname.endsWith("/consistency")) {
        return { body: { fromSize: 8, toSize: 12, proof: rewrittenProof } };
      }
      return undefined;
    });
    renderWithQueryClient(<LogIntegrityBadge org={testOrg} now={now} />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(
      /Verification failed: Inconsistent with a checkpoint seen before\./,
    );
    expect(alert.textContent).toMatch(/Last verified in this browser: through entry 8/);
    // The reference is still the checkpoint verified before.
    expect(
      JSON.parse(window.localStorage.getItem(trustStorageKey(testOrg.id)) ?? "{}"),
    ).toMatchObject({
      treeSize: 8,
    });
  });

  it("says so when there is no checkpoint yet", async () => {
    serve(null);
    renderWithQueryClient(<LogIntegrityBadge org={testOrg} now={now} />);
    expect(await screen.findByText(/No signed checkpoint yet/)).toBeTruthy();
  });

  it("names an unknown key in words", async () => {
    const stranger = parseSignerKey(generateSignerKey("auditlog.localhost"));
    mockFetch(({ url }) => {
      if (url.pathname === "/v1/checkpoint-keys") return { body: { keys: [publishedKey()] } };
      if (url.pathname.endsWith("/checkpoint")) {
        return { body: log.checkpoint(12, { signer: stranger }) };
      }
      return undefined;
    });
    renderWithQueryClient(<LogIntegrityBadge org={testOrg} now={now} />);
    expect((await screen.findByRole("alert")).textContent).toMatch(
      /Verification failed: Unknown key\./,
    );
  });

  it("warns about a key that is no longer published until the user trusts the current ones", async () => {
    const retired = parseSignerKey(generateSignerKey("retired.example"));
    serve(log, 12, [publishedKey(), publishedKey(retired)]);
    const first = renderWithQueryClient(<LogIntegrityBadge org={testOrg} now={now} />);
    await screen.findByRole("button", { name: /Verified through entry 12/ });
    first.unmount();

    serve(log, 12, [publishedKey()]);
    renderWithQueryClient(<LogIntegrityBadge org={testOrg} now={now} />);
    const badge = await screen.findByRole("button", {
      name: /Verified through entry 12 .* key warning/,
    });
    await userEvent.click(badge);
    expect(screen.getByText(`${retired.name}+${retired.keyId}`).parentElement?.textContent).toMatch(
      /is no longer published/,
    );
    await userEvent.click(screen.getByRole("button", { name: "Trust the keys published now" }));
    expect(
      await screen.findByRole("button", { name: /^Verified through entry 12 · [^·]+$/ }),
    ).toBeTruthy();
  });
});

describe("EntryInclusion", () => {
  let log: SignedLog;
  /** The inclusion proof of each seq in the tree of 6. */
  const proofs = new Map<number, { leafHash: string; proof: string[] }>();
  beforeAll(async () => {
    log = await signedLog(logEntries(7));
    for (let seq = 1; seq <= 6; seq++) proofs.set(seq, await log.proof(seq, 6));
  });

  const serveProofs = () =>
    mockFetch(({ url }) => {
      if (url.pathname === "/v1/checkpoint-keys") return { body: { keys: [publishedKey()] } };
      if (url.pathname.endsWith("/checkpoint")) return { body: log.checkpoint(6) };
      const match = /\/audit-logs\/([^/]+)\/proof$/.exec(url.pathname);
      if (match) {
        const entry = log.entries.find((candidate) => candidate.id === match[1]) as AuditEntry;
        if (url.searchParams.get("treeSize") !== "6") return { status: 400, body: {} };
        return { body: { leafIndex: entry.seq - 1, treeSize: 6, ...proofs.get(entry.seq) } };
      }
      return undefined;
    });

  it("shows an entry included in the verified log, with its proof collapsed", async () => {
    const requests = serveProofs();
    renderWithQueryClient(<EntryInclusion org={testOrg} entry={log.entries[3] as AuditEntry} />);
    expect(
      (await screen.findByText(/Included in the verified log at entry 4/)).textContent,
    ).toMatch(/✓/);
    expect(requests.some((request) => request.url.searchParams.get("treeSize") === "6")).toBe(true);
    const summary = screen.getByText(/^Proof: 3 hashes to the root of entries 1 to 6$/);
    expect(summary.closest("details")?.open).toBe(false);
  });

  it("fails an entry that differs from the one logged", async () => {
    serveProofs();
    const entry = log.entries[1] as AuditEntry;
    renderWithQueryClient(
      <EntryInclusion org={testOrg} entry={{ ...entry, description: "edited in the database" }} />,
    );
    expect((await screen.findByRole("alert")).textContent).toMatch(
      /Inclusion proof failed\. The entry as shown does not match the log/,
    );
  });

  it("waits for a checkpoint that covers a newer entry", async () => {
    serveProofs();
    renderWithQueryClient(<EntryInclusion org={testOrg} entry={log.entries[6] as AuditEntry} />);
    expect(
      await screen.findByText(/Entry 7 is newer than the verified checkpoint \(entries 1 to 6\)/),
    ).toBeTruthy();
  });
});
