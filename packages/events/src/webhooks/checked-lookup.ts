import type { LookupAddress, LookupOptions } from "node:dns";
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
