import { formatFullTimestamp, formatRelative } from "../lib/format-time.ts";

/** "3 days ago" as a machine-readable `<time>`, the full timestamp on hover. */
export function RelativeTime({ at, now }: { at: string; now: number }) {
  return (
    <time dateTime={at} title={formatFullTimestamp(at)}>
      {formatRelative(at, now)}
    </time>
  );
}
