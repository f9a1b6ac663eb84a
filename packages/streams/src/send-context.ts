import type { DeliveryOutcome, SenderDeps } from "./destination-sender.ts";

/**
 * What every sender shares: one deadline for the whole send (name lookup included), the caller's
 * signal, `Retry-After`, the mapping of a status to an outcome, and the rule that no reason ever
 * carries the destination's secret (a receiver may echo a token in its error text).
 */

export class SendTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

export class SendAborted extends Error {
  constructor() {
    super("delivery cancelled");
  }
}

/** Runs `work` under `deps.timeoutMs` and `signal`: either one aborts the signal `work` gets. */
export async function withDeadline<T>(
  deps: Pick<SenderDeps, "timeoutMs">,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let why: Error | null = null;
  const stop = (error: Error) => {
    if (why) return;
    why = error;
    abort.abort(error);
  };
  const timer = setTimeout(() => stop(new SendTimeout(deps.timeoutMs)), deps.timeoutMs);
  const onCallerAbort = () => stop(new SendAborted());
  if (signal?.aborted) onCallerAbort();
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  // A name lookup cannot be cancelled, so the work is raced against the abort as well.
  const aborted = new Promise<never>((_, reject) => {
    abort.signal.addEventListener("abort", () => reject(why), { once: true });
  });
  try {
    if (why) throw why;
    return await Promise.race([work(abort.signal), aborted]);
  } catch (error) {
    throw why ?? error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onCallerAbort);
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or bad. */
export function parseRetryAfter(
  value: string | string[] | undefined | null,
  now: Date,
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** Removes `secret` from a text that is about to become a reason (or a log line). */
export function redactSecret(text: string, secret: string | null): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join("[redacted]");
}

/** Keeps a receiver's error text short enough for `lastError`. */
export function shorten(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The outcome of a thrown error: a timeout, a cancellation or a network failure, all retried. */
export function failureOutcome(error: unknown, secret: string | null): DeliveryOutcome {
  if (error instanceof SendTimeout) {
    return { kind: "retry", reason: error.message, status: null };
  }
  if (error instanceof SendAborted) {
    return { kind: "retry", reason: error.message, status: null };
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  const detail =
    typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
  return {
    kind: "retry",
    reason: redactSecret(`request failed: ${shorten(detail)}`, secret),
    status: null,
  };
}

/**
 * The outcome of an HTTP status by the common rule: 2xx delivered; 408, 429 and 5xx retried
 * (with Retry-After); a redirect retried (never followed: the address rule would not have checked
 * its target); any other 4xx rejected. Senders refine it with what their receiver documents.
 */
export function statusOutcome(input: {
  status: number;
  retryAfterMs: number | undefined;
  detail: string;
  secret: string | null;
}): DeliveryOutcome {
  const { status } = input;
  const reason = redactSecret(
    shorten(`receiver answered ${status}${input.detail ? `: ${input.detail}` : ""}`),
    input.secret,
  );
  if (status >= 200 && status < 300) return { kind: "delivered", status };
  if (status >= 300 && status < 400) {
    return { kind: "retry", reason: `${reason} (redirects are not followed)`, status };
  }
  if (status === 408 || status === 429 || status >= 500) {
    return input.retryAfterMs === undefined
      ? { kind: "retry", reason, status }
      : { kind: "retry", reason, status, retryAfterMs: input.retryAfterMs };
  }
  return { kind: "rejected", reason, status };
}
