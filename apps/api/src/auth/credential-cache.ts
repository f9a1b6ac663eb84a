/**
 * Small in-process building blocks for authentication caches. Keys are SHA-256 hashes of
 * credentials (never the credentials), and every structure is bounded: a flood of random
 * credentials can only push out the oldest entries of its own structure.
 */

/** A map that forgets its least recently written entries beyond `maxEntries`. */
export class BoundedMap<V> {
  readonly #entries = new Map<string, V>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.#entries.entries();
  }

  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, value] of this.#entries) if (matches(value)) this.#entries.delete(key);
  }
}

/**
 * Credentials recently found not to exist (or no longer valid). A credential cannot become valid
 * later — every credential is random and only handed out after it is stored — so remembering a
 * miss never delays a sign-in or a new key; it only stops the same unknown value from costing a
 * database lookup more than once per `ttlMs`.
 */
export class NegativeCache {
  readonly #until: BoundedMap<number>;
  constructor(
    private readonly ttlMs: number,
    maxEntries = 10_000,
  ) {
    this.#until = new BoundedMap(maxEntries);
  }

  has(key: string, now = Date.now()): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#until.delete(key);
    return false;
  }

  add(key: string, now = Date.now()): void {
    if (this.ttlMs > 0) this.#until.set(key, now + this.ttlMs);
  }

  delete(key: string): void {
    this.#until.delete(key);
  }
}

/** Concurrent lookups of the same credential share one database query. */
export class LookupCoalescer<T> {
  readonly #pending = new Map<string, Promise<T>>();

  run(key: string, lookup: () => Promise<T>): Promise<T> {
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const started = lookup().finally(() => this.#pending.delete(key));
    this.#pending.set(key, started);
    return started;
  }
}

export class DeadlineExceeded extends Error {}

/** `promise`, or a DeadlineExceeded rejection after `ms` (the promise itself runs on). */
export async function withinDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
