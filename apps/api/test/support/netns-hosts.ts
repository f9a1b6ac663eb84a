import { type ChildProcess, execFile, type SpawnOptions, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Hosts as Linux network namespaces on one machine: each host has its own network stack and one
 * address on a private /24, wired to a bridge in the root namespace through a veth pair. A
 * process started "on" a host sees only that host's interfaces, so a server bound to the host's
 * address is reachable from the other hosts (and from the test, through the bridge) until the
 * host's link goes down. This is how the multi-host tests stand in for several machines.
 */
export interface NetnsHost {
  /** The name the test gave the host ("api-1", "worker-2" …). */
  name: string;
  /** The namespace (`ip netns list`). */
  namespace: string;
  /** The host's one address on the test network. */
  address: string;
  /** Starts a process on the host (its network namespace); killed when the network is destroyed. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command on the host to completion; rejects when it exits non-zero. */
  exec(command: string, args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Unplugs the host: its link goes down, so nothing reaches it and it reaches nothing. */
  cutOff(): Promise<void>;
  /** Plugs it back in. */
  reconnect(): Promise<void>;
  /** Kills every process on the host with SIGKILL, as a power cut would. */
  killAll(): Promise<void>;
}

export interface NetnsNetwork {
  /** The bridge's address: the root namespace (this test process) as seen from the hosts. */
  gateway: string;
  hosts: Record<string, NetnsHost>;
  destroy(): Promise<void>;
}

/**
 * Namespaces and links carry the creating process's pid (base 36, to fit Linux's 15-character
 * interface names), so a later run can sweep what a crashed one left.
 */
const prefix = "alns";
const ownTag = process.pid.toString(36);

async function ip(...args: string[]): Promise<string> {
  return (await run("ip", args)).stdout;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes namespaces and bridges left by test processes that died without cleaning up. */
export async function sweepStaleNetns(): Promise<number> {
  let swept = 0;
  const namespaces = (await ip("netns", "list"))
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(prefix));
  for (const namespace of namespaces) {
    const pid = Number.parseInt(namespace.slice(prefix.length).split("-")[0] ?? "", 36);
    if (Number.isInteger(pid) && !isAlive(pid)) {
      await killNamespaceProcesses(namespace);
      await ip("netns", "delete", namespace).catch(() => {});
      swept++;
    }
  }
  const links = (await ip("-o", "link", "show", "type", "bridge"))
    .split("\n")
    .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
    .filter((name) => name.startsWith(prefix));
  for (const link of links) {
    const pid = Number.parseInt(link.slice(prefix.length).split("b")[0] ?? "", 36);
    if (Number.isInteger(pid) && !isAlive(pid)) {
      await ip("link", "delete", link).catch(() => {});
      swept++;
    }
  }
  return swept;
}

async function killNamespaceProcesses(namespace: string): Promise<void> {
  const pids = (await ip("netns", "pids", namespace).catch(() => ""))
    .split("\n")
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

let networksMade = 0;

/** A 10.231.N.0/24 no interface of this machine has an address in yet. */
async function unusedSubnet(): Promise<string> {
  const inUse = await ip("-o", "-4", "addr", "show");
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = `10.231.${Math.floor(Math.random() * 250) + 1}`;
    if (!inUse.includes(`inet ${candidate}.`)) return candidate;
  }
  throw new Error("no free 10.231.N.0/24 subnet for a test network");
}

/**
 * Creates one host per name on a fresh /24 (10.231.N.0/24, one no interface uses yet, so
 * concurrent test files do not collide). Interface names stay within Linux's 15
 * characters: `alns<pid36>b<n>` for the bridge, `alns<pid36>v<n>h<i>` for a host's root-side
 * veth (its peer, `…p<n>h<i>`, is renamed eth0 inside the host).
 */
export async function createNetnsNetwork(hostNames: string[]): Promise<NetnsNetwork> {
  if (hostNames.length === 0 || hostNames.length > 200) {
    throw new Error(`hostNames: 1 to 200 hosts, got ${hostNames.length}`);
  }
  await sweepStaleNetns();
  const network = networksMade++;
  const bridge = `${prefix}${ownTag}b${network}`;
  if (bridge.length > 15) throw new Error(`interface name too long: ${bridge}`);
  const subnet = await unusedSubnet();
  const gateway = `${subnet}.1`;
  const namespaces: string[] = [];
  const destroy = async () => {
    // Last made, first killed: the services a test starts first (databases) outlive their clients.
    for (const namespace of [...namespaces].reverse()) {
      await killNamespaceProcesses(namespace);
      await ip("netns", "delete", namespace).catch(() => {});
    }
    await ip("link", "delete", bridge).catch(() => {});
  };
  try {
    await ip("link", "add", bridge, "type", "bridge");
    await ip("addr", "add", `${gateway}/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
    const hosts: Record<string, NetnsHost> = {};
    for (const [index, name] of hostNames.entries()) {
      if (!/^[a-z0-9-]{1,20}$/.test(name) || hosts[name]) {
        throw new Error(`hostNames[${index}]: a unique name of a-z, 0-9 and '-', got "${name}"`);
      }
      const namespace = `${prefix}${ownTag}-${network}-${name}`;
      const outside = `${prefix}${ownTag}v${network}h${index}`;
      const inside = `${prefix}${ownTag}p${network}h${index}`;
      if (inside.length > 15) throw new Error(`interface name too long: ${inside}`);
      const address = `${subnet}.${10 + index}`;
      await ip("netns", "add", namespace);
      namespaces.push(namespace);
      await ip("link", "add", outside, "type", "veth", "peer", "name", inside);
      await ip("link", "set", inside, "netns", namespace);
      await ip("link", "set", outside, "master", bridge);
      await ip("link", "set", outside, "up");
      const inNamespace = (...args: string[]) => ip("netns", "exec", namespace, "ip", ...args);
      await inNamespace("link", "set", "lo", "up");
      await inNamespace("link", "set", inside, "name", "eth0");
      await inNamespace("addr", "add", `${address}/24`, "dev", "eth0");
      await inNamespace("link", "set", "eth0", "up");
      await inNamespace("route", "add", "default", "via", gateway);
      hosts[name] = {
        name,
        namespace,
        address,
        spawn: (command, args, options = {}) =>
          spawn("ip", ["netns", "exec", namespace, command, ...args], options),
        exec: (command, args) => run("ip", ["netns", "exec", namespace, command, ...args]),
        cutOff: async () => {
          await inNamespace("link", "set", "eth0", "down");
        },
        reconnect: async () => {
          await inNamespace("link", "set", "eth0", "up");
          // Bringing a link down drops its routes; the default route must come back with it.
          await inNamespace("route", "replace", "default", "via", gateway);
        },
        killAll: () => killNamespaceProcesses(namespace),
      };
    }
    return { gateway, hosts, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
