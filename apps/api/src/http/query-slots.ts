import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/**
 * How many entry queries (list, histogram, Hub export) each organisation may run at once in this
 * process. The database pool is shared by every tenant; without slots, one tenant's burst of
 * expensive searches takes every connection and the others queue behind it.
 */
export function createQuerySlots(options: { perOrg: number; waitMs: number }) {
  const running = new Map<string, number>();
  const waiting = new Map<string, (() => void)[]>();

  const release = (orgId: string) => {
    const next = waiting.get(orgId)?.shift();
    if (next) {
      next(); // The slot passes straight to the next waiter.
      return;
    }
    const count = (running.get(orgId) ?? 1) - 1;
    if (count > 0) running.set(orgId, count);
    else running.delete(orgId);
    if (waiting.get(orgId)?.length === 0) waiting.delete(orgId);
  };

  return {
    perOrg: options.perOrg,
    /** A release function once a slot is free; null when none freed up within the wait. */
    async acquire(orgId: string): Promise<(() => void) | null> {
      const count = running.get(orgId) ?? 0;
      const once = () => {
        let released = false;
        return () => {
          if (released) return;
          released = true;
          release(orgId);
        };
      };
      if (count < options.perOrg) {
        running.set(orgId, count + 1);
        return once();
      }
      if (options.waitMs === 0) return null;
      return new Promise((resolve) => {
        const queue = waiting.get(orgId) ?? [];
        waiting.set(orgId, queue);
        const granted = () => {
          clearTimeout(timer);
          resolve(once());
        };
        const timer = setTimeout(() => {
          const index = queue.indexOf(granted);
          if (index >= 0) queue.splice(index, 1);
          resolve(null);
        }, options.waitMs);
        queue.push(granted);
      });
    },
    /** Queries running for an organisation now; for tests and metrics. */
    running: (orgId: string) => running.get(orgId) ?? 0,
  };
}

export type QuerySlots = ReturnType<typeof createQuerySlots>;

/** A slot for `orgId`, or 429 with the concurrency policy and Retry-After. */
export async function takeQuerySlot(slots: QuerySlots, orgId: string): Promise<() => void> {
  const release = await slots.acquire(orgId);
  if (release) return release;
  throw new ApiError(
    "rate_limited",
    `this organization already runs ${slots.perOrg} queries at once; retry in a moment`,
    undefined,
    {
      "RateLimit-Policy": `"queries";q=${slots.perOrg};qu="concurrent-requests"`,
      RateLimit: `"queries";r=0`,
      "Retry-After": "1",
    },
  );
}

/** For routes whose answer is complete when the handler returns (not for streams). */
export const limitOrgQueries: MiddlewareHandler<AppEnv> = async (c, next) => {
  const release = await takeQuerySlot(c.var.services.querySlots, c.var.org.id);
  try {
    await next();
  } finally {
    release();
  }
};
