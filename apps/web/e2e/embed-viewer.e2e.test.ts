import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ConsoleMessage, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { assertChromiumInstalled, launchConsole } from "./chromium.ts";
import { createAdminOrg, postEventsAndWait, repoRoot, type Stack, startStack } from "./stack.ts";

/**
 * The embeddable viewer (issue 20) in a real Chromium against the production build: two host
 * pages on two local origins (127.0.0.1 on two ports) frame the same viewer link. The
 * organisation lists only the first as allowed to frame it: there the table renders the link's
 * entries (and only them); the second is refused by the browser (CSP frame-ancestors) and shows
 * no entry. Screenshots: apps/web/e2e-artifacts/embed-viewer/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/embed-viewer");
const password = "correct-horse-battery";

/** A host product's page: the README's snippet, with the link's address. */
function hostPage(src: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head>
<body><h1>Host product</h1>
<iframe src="${src}" title="Audit log" width="1000" height="600" style="border:0"></iframe>
</body></html>`;
}

async function startHost(src: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(hostPage(src));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

describe("embeddable viewer framed by an allowed and by another origin", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  const hosts: Server[] = [];
  let allowed: string;
  let other: string;
  let viewerSrc: string;
  const consoleMessages: string[] = [];

  beforeAll(async () => {
    assertChromiumInstalled();
    stack = await startStack();
    const orgSlug = `embed-${Date.now().toString(36)}`;
    const credentials = await createAdminOrg(
      stack,
      { slug: orgSlug, name: "Embed Org" },
      { email: `admin@${orgSlug}.test`, password },
    );
    await postEventsAndWait(
      stack,
      orgSlug,
      credentials,
      ["acme/bert", "acme/bert", "acme/bert", "acme/gpt", "other/x"].map((name) => ({
        type: "repo.create",
        actor: { type: "user", id: "usr_alice", name: "alice" },
        target: { type: "model", id: name, name },
        data: { repo: { type: "model", name } },
        context: { ip: "81.2.69.160", userAgent: "e2e-embed/1.0" },
      })),
    );
    const api = (path: string, method: string, body: unknown) =>
      fetch(`${stack.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${credentials.token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
    const created = await api(`/v1/orgs/${orgSlug}/viewer-links`, "POST", {
      name: "bert owners",
      q: "target:acme/bert",
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(created.status).toBe(201);
    const link = (await created.json()) as { embedSrc: string; embedUrl: string; token: string };
    // The iframe's address as the API answered it (PUBLIC_URL, or the path on its origin).
    const src = new URL(link.embedSrc, stack.baseUrl).href;
    expect(src).toBe(
      `${stack.baseUrl}/embed/viewer/${link.embedUrl.split("/").pop()}#${link.token}`,
    );
    viewerSrc = src;
    const first = await startHost(src);
    const second = await startHost(src);
    hosts.push(first.server, second.server);
    allowed = first.origin;
    other = second.origin;
    const put = await api(`/v1/orgs/${orgSlug}/viewer-embedding`, "PUT", {
      frameOrigins: [allowed],
    });
    expect(put.status).toBe(200);
    ({ page, dispose } = await launchConsole("embed-viewer", {
      viewport: { width: 1100, height: 800 },
    }));
    page.on("console", (message: ConsoleMessage) => consoleMessages.push(message.text()));
  });
  afterAll(async () => {
    await dispose?.();
    for (const server of hosts) await new Promise((resolve) => server.close(resolve));
    await stack?.stop();
  });

  const viewerFrame = async (): Promise<Frame> => {
    const handle = await page.locator('iframe[title="Audit log"]').elementHandle();
    const frame = await handle?.contentFrame();
    if (!frame) throw new Error("the host page has no frame");
    return frame;
  };

  it("renders the link's entries, and only them, in the allowed origin's frame", async () => {
    await page.goto(allowed);
    const frame = await viewerFrame();
    const rows = frame.locator("tbody tr");
    await rows
      .nth(2)
      .waitFor()
      .catch(async (error) => {
        console.log("DEBUG", frame.url(), await frame.content().catch((e) => String(e)));
        console.log("DEBUG console", consoleMessages);
        throw error;
      });
    expect(await rows.count()).toBe(3);
    const targets = await frame.locator("tbody tr td:nth-child(5)").allTextContents();
    expect(targets).toEqual(["acme/bert", "acme/bert", "acme/bert"]);
    expect(await frame.locator("h1").textContent()).toBe("Embed Org audit log: bert owners");
    // The holder's own filter narrows inside the link (and cannot widen it).
    await frame.getByRole("searchbox", { name: "Filter within this view" }).fill("target:acme/gpt");
    await frame.getByRole("button", { name: "Search" }).click();
    await frame.getByText("No entries match.").waitFor();
    expect(await rows.count()).toBe(0);
    await page.screenshot({ path: join(artifacts, "allowed-origin.png") });
    // No Content-Security-Policy violation of any kind (inline script or style, connect …).
    expect(consoleMessages.filter((m) => m.includes("Content Security Policy"))).toEqual([]);
  });

  it("has no axe violation (the viewer page on its own)", async () => {
    await page.goto(viewerSrc);
    await page.locator("tbody tr").nth(2).waitFor();
    await expectNoAxeViolations(page, "embeddable viewer");
    expect(consoleMessages.filter((m) => m.includes("Content Security Policy"))).toEqual([]);
  });

  it("refuses to render in any other origin's frame", async () => {
    const refused = page.waitForEvent("console", (message) =>
      message.text().includes("frame-ancestors"),
    );
    await page.goto(other);
    const message = (await refused).text();
    // "Framing '<viewer>' violates the following Content Security Policy directive:
    // "frame-ancestors <allowed>". The request has been blocked."
    expect(message).toContain("violates the following Content Security Policy directive");
    expect(message).toContain(`frame-ancestors ${allowed}`);
    expect(message).toContain("blocked");
    const frame = await viewerFrame();
    // Chromium replaces a refused frame's document with its own error page.
    expect(frame.url()).not.toContain("/embed/viewer/");
    expect(await frame.locator("#viewer").count()).toBe(0);
    expect(await frame.locator("tbody tr").count()).toBe(0);
    await page.screenshot({ path: join(artifacts, "other-origin.png") });
  });
});
