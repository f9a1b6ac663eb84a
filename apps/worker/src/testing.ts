import dns from "node:dns";
import { isIP } from "node:net";

export interface ResolvedAddress {
  address: string;
  family: number;
}

/**
 * A DNS resolver for tests, injected where the API and the worker resolve webhook hosts: each
 * name answers its scripted address lists in turn (the last one repeats), any other name does
 * not exist. Every question is recorded, so a test can tell when a host was resolved, and that
 * nothing reached the machine's real resolver.
 */
export function scriptedResolver(script: Record<string, string[][]>) {
  const calls: string[] = [];
  const answered: Record<string, number> = {};
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answers = script[hostname];
    if (!answers || answers.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    }
    const turn = answered[hostname] ?? 0;
    answered[hostname] = turn + 1;
    const addresses = answers[Math.min(turn, answers.length - 1)] as string[];
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { lookup, calls };
}

/**
 * The machine's resolver queries a DNS server outside loopback: tests must not. While installed,
 * Node's own `dns.lookup` (which `net`, `http` and `fetch` call for every name) answers
 * `localhost` and address literals as usual and refuses every other name, recording it, so code that bypassed the
 * injected resolver fails the test instead of sending a query out.
 */
export function forbidSystemDns() {
  const attempted: string[] = [];
  const original = dns.lookup;
  const guarded = ((hostname: string, ...rest: unknown[]) => {
    const callback = rest.at(-1) as (error: Error | null) => void;
    if (hostname === "localhost" || isIP(hostname) !== 0) {
      return (original as (...args: unknown[]) => void)(hostname, ...rest);
    }
    attempted.push(hostname);
    const error = Object.assign(new Error(`test: no DNS query for ${hostname}`), {
      code: "ENOTFOUND",
    });
    process.nextTick(() => callback(error));
  }) as typeof dns.lookup;
  const originalPromise = dns.promises.lookup;
  const guardedPromise = (async (hostname: string, options?: unknown) => {
    if (hostname === "localhost" || isIP(hostname) !== 0)
      return originalPromise(hostname, options as dns.LookupOptions);
    attempted.push(hostname);
    throw Object.assign(new Error(`test: no DNS query for ${hostname}`), { code: "ENOTFOUND" });
  }) as typeof dns.promises.lookup;
  dns.lookup = guarded;
  dns.promises.lookup = guardedPromise;
  return {
    attempted,
    restore: () => {
      dns.lookup = original;
      dns.promises.lookup = originalPromise;
    },
  };
}
