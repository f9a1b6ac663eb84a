import type { LookupAddress, LookupOptions } from "node:dns";
import type { Agent, OutgoingHttpHeaders, RequestOptions } from "node:http";
import type { ResolvedAddress } from "./webhook-target.ts";

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The `lookup` a request connects with: it answers the addresses already checked, never asks
 * DNS again, so the connection goes to an address that was checked (a second question could be
 * answered differently: DNS rebinding). Shared by webhook deliveries (worker) and log streams.
 */
export function checkedLookup(addresses: readonly ResolvedAddress[]) {
  return (_hostname: string, options: LookupOptions, callback: LookupCallback) => {
    const wanted = addresses.filter(
      (a) => !options.family || options.family === a.family || options.family === `IPv${a.family}`,
    );
    if (options.all) {
      callback(
        null,
        wanted.map((a) => ({ address: a.address, family: a.family })),
      );
      return;
    }
    const first = wanted[0];
    if (!first) {
      callback(
        Object.assign(new Error("no checked address of that family"), { code: "ENOTFOUND" }),
        "",
      );
      return;
    }
    callback(null, first.address, first.family);
  };
}

/**
 * The options of a POST to `url` that connects only to `addresses` (checked), the URL's name kept
 * for Host and TLS. `agent: false` is a connection of its own (a pooled one could have been
 * opened under another answer); an agent of the caller's own keeps connections it opened itself
 * this way. Shared by webhook deliveries (worker) and log streams.
 */
export function checkedPostOptions(
  target: { url: URL; host: string; addresses: readonly ResolvedAddress[] },
  request: { headers: OutgoingHttpHeaders; agent: Agent | false; signal: AbortSignal },
): RequestOptions {
  const { url } = target;
  return {
    host: target.host,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    method: "POST",
    headers: { host: url.host, ...request.headers },
    lookup: checkedLookup(target.addresses) as never,
    agent: request.agent,
    signal: request.signal,
  };
}
