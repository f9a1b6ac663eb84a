import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetnsNetwork, type NetnsNetwork } from "./support/netns-hosts.ts";

/**
 * The multi-host harness itself: hosts reach each other's servers over the namespace network,
 * a cut-off host is unreachable (and reaches nothing), and it comes back when reconnected.
 */
describe("hosts as network namespaces", () => {
  let network: NetnsNetwork;

  // A tiny HTTP server bound to the host's own address, answering with the host's name.
  const serve = async (hostName: string) => {
    const host = network.hosts[hostName];
    if (!host) throw new Error(`no host ${hostName}`);
    const server = host.spawn(
      process.execPath,
      [
        "-e",
        `require("node:http").createServer((_, res) => res.end(${JSON.stringify(hostName)}))` +
          `.listen(8080, ${JSON.stringify(host.address)}, () => console.log("listening"))`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await once(server.stdout as NodeJS.ReadableStream, "data");
    return server;
  };

  // Fetches from inside another host, so the request crosses the namespace network.
  const fetchFrom = async (fromHost: string, url: string) => {
    const host = network.hosts[fromHost];
    if (!host) throw new Error(`no host ${fromHost}`);
    const script =
      `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(1500) })` +
      `.then(r => r.text()).then(t => console.log("ok:" + t), e => console.log("failed:" + e.name))`;
    const { stdout } = await host.exec(process.execPath, ["-e", script]);
    return stdout.trim();
  };

  beforeAll(async () => {
    network = await createNetnsNetwork(["alpha", "beta", "gamma"]);
  });

  afterAll(async () => {
    await network?.destroy();
  });

  it("gives each host its own address and reaches a server across hosts and from the test", async () => {
    const addresses = Object.values(network.hosts).map((host) => host.address);
    expect(new Set(addresses).size).toBe(3);
    await serve("alpha");
    const alpha = network.hosts.alpha?.address;
    expect(await fetchFrom("beta", `http://${alpha}:8080/`)).toBe("ok:alpha");
    expect(await fetchFrom("gamma", `http://${alpha}:8080/`)).toBe("ok:alpha");
    expect(await (await fetch(`http://${alpha}:8080/`)).text()).toBe("alpha");
    // A host's loopback is its own: the server on alpha is not on beta's 127.0.0.1.
    expect(await fetchFrom("beta", "http://127.0.0.1:8080/")).toBe("failed:TypeError");
  });

  it("cuts a host off and plugs it back in", async () => {
    await serve("gamma");
    const gamma = network.hosts.gamma;
    if (!gamma) throw new Error("no gamma");
    await gamma.cutOff();
    expect(await fetchFrom("alpha", `http://${gamma.address}:8080/`)).toMatch(/^failed:/);
    expect(await fetchFrom("gamma", `http://${network.hosts.alpha?.address}:8080/`)).toMatch(
      /^failed:/,
    );
    await gamma.reconnect();
    expect(await fetchFrom("alpha", `http://${gamma.address}:8080/`)).toBe("ok:gamma");
    expect(await fetchFrom("gamma", `http://${network.hosts.alpha?.address}:8080/`)).toBe(
      "ok:alpha",
    );
  });

  it("kills every process on a host", async () => {
    const server = await serve("beta");
    const exited = once(server, "exit");
    await network.hosts.beta?.killAll();
    await exited;
    expect(await fetchFrom("alpha", `http://${network.hosts.beta?.address}:8080/`)).toMatch(
      /^failed:/,
    );
  });
});
