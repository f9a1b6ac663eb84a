/**
 * The wait before a failed stream's next attempt: `baseMs` doubled per consecutive failure, up
 * to `maxMs`, then "equal jitter" (between half and all of it) so streams that failed together
 * (one receiver down for all of them) do not retry in lockstep. A receiver's Retry-After is
 * honoured when longer, up to `maxMs` too: the stream must keep trying, never wait for hours.
 */
export function streamRetryDelay(input: {
  consecutiveFailures: number;
  baseMs: number;
  maxMs: number;
  retryAfterMs?: number;
  random?: () => number;
}): number {
  const random = input.random ?? Math.random;
  const exponent = Math.min(Math.max(input.consecutiveFailures - 1, 0), 30);
  const ceiling = Math.min(input.maxMs, input.baseMs * 2 ** exponent);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const asked = Math.min(input.retryAfterMs ?? 0, input.maxMs);
  return Math.round(Math.max(jittered, asked));
}
