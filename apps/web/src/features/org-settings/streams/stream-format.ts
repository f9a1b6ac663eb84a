import type { LogStream, StreamDestination } from "@auditlog/events";

/** Where a stream delivers, in a few words (no secret: the destination never holds one). */
export function destinationSummary(destination: StreamDestination): string {
  switch (destination.type) {
    case "https":
      return destination.url;
    case "splunk":
      return destination.index
        ? `${destination.url} (index ${destination.index})`
        : destination.url;
    case "datadog":
      return destination.url ?? destination.site;
    case "s3":
      return `s3://${destination.bucket}${destination.prefix ? `/${destination.prefix}` : ""}`;
  }
}

export const destinationLabels: Record<StreamDestination["type"], string> = {
  https: "HTTPS",
  splunk: "Splunk HEC",
  datadog: "Datadog",
  s3: "S3",
};

/** A lag as people read it: "12 s", "5 min", "3 h", "2 days". */
export function formatLagTime(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

export function formatLag(lag: LogStream["lag"]): string {
  if (lag.entries === 0) return "Caught up";
  const entries = `${lag.entries.toLocaleString("en-US")} ${lag.entries === 1 ? "entry" : "entries"}`;
  return `${entries} behind (${formatLagTime(lag.seconds)})`;
}

export const stateLabels: Record<LogStream["state"], string> = {
  active: "Active",
  paused: "Paused",
  failing: "Failing",
};
