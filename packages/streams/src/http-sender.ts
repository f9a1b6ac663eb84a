import { type CheckedResponse, checkedPost, type SenderConnections } from "./checked-post.ts";
import type { DeliveryOutcome, SenderDeps } from "./destination-sender.ts";
import { failureOutcome, parseRetryAfter, withDeadline } from "./send-context.ts";

/**
 * One request of an HTTP sender, start to outcome: the deadline and the caller's signal, the
 * address rule, and `interpret` (the receiver's own reading of its answer) for a response.
 * Every reason passes through the sender's secret filter.
 */
export async function sendRequest(input: {
  url: string;
  headers: Record<string, string | number>;
  body: Buffer | string | readonly Buffer[];
  deps: SenderDeps;
  secret: string | null;
  signal: AbortSignal | undefined;
  /** The sender's kept connections (none: a connection for this request alone). */
  connections?: SenderConnections;
  interpret: (response: CheckedResponse, retryAfterMs: number | undefined) => DeliveryOutcome;
}): Promise<DeliveryOutcome> {
  try {
    return await withDeadline(input.deps, input.signal, async (signal) => {
      const result = await checkedPost({ ...input, signal });
      if (result.kind === "refused") return { kind: "refused", reason: result.reason };
      if (result.kind === "unresolved") {
        return { kind: "retry", reason: result.reason, status: null };
      }
      const now = input.deps.now?.() ?? new Date();
      return input.interpret(result, parseRetryAfter(result.headers["retry-after"], now));
    });
  } catch (error) {
    return failureOutcome(error, input.secret);
  }
}

/**
 * Splits `items` into runs of at most `maxCount` items and `maxBytes` bytes (each item's size
 * plus `separatorBytes` between items, plus `frameBytes` for the whole run). An item larger than
 * `maxBytes` on its own travels alone (the receiver decides: Datadog truncates it).
 */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: { maxCount: number; maxBytes: number; separatorBytes: number; frameBytes: number },
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = limits.frameBytes;
  for (const item of items) {
    const size = sizeOf(item);
    const added = current.length === 0 ? size : size + limits.separatorBytes;
    if (
      current.length > 0 &&
      (current.length >= limits.maxCount || bytes + added > limits.maxBytes)
    ) {
      chunks.push(current);
      current = [];
      bytes = limits.frameBytes;
    }
    bytes += current.length === 0 ? size : size + limits.separatorBytes;
    current.push(item);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Sends parts one after the other; the batch is delivered only when every part was. */
export async function sendParts<T>(
  parts: readonly T[],
  sendOne: (part: T, index: number) => Promise<DeliveryOutcome>,
): Promise<DeliveryOutcome> {
  let last: DeliveryOutcome | null = null;
  for (const [index, part] of parts.entries()) {
    const outcome = await sendOne(part, index);
    if (outcome.kind !== "delivered") {
      if (parts.length === 1 || outcome.kind === "refused") return outcome;
      return {
        ...outcome,
        reason: `part ${index + 1} of ${parts.length}: ${outcome.reason}`,
      } as DeliveryOutcome;
    }
    last = outcome;
  }
  return last ?? { kind: "delivered", status: null };
}
