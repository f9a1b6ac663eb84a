import {
  Counter,
  createMetricsRegistry,
  Histogram,
  type MetricsAccess,
  type MetricsAccessSettings,
  metricsAccessRule,
  type Registry,
} from "@auditlog/observability";

/** The API process's figures, read at `/metrics` (README, "Metrics and logs"). */
export interface ApiMetrics {
  registry: Registry;
  /** Whether a scrape may read them (METRICS_TOKEN, METRICS_ALLOW_CIDRS). */
  access(request: { authorization?: string | undefined; peer?: string | undefined }): MetricsAccess;
  /** Answers by method, matched route pattern and status. */
  httpRequests: Counter<"method" | "route" | "status">;
  /** Time from the request's arrival to its answer's headers, by the same labels. */
  httpDuration: Histogram<"method" | "route" | "status">;
  /** Events answered 202: queued for the worker. */
  eventsAccepted: Counter;
  /** Ingest requests answered with an error, by error code. */
  ingestRequestsRefused: Counter<"reason">;
  /** Events in a request body that was read and refused whole, by error code. */
  ingestEventsRefused: Counter<"reason">;
}

/** One registry per API process (and per test stack: registries must not be shared). */
export function createApiMetrics(settings: MetricsAccessSettings): ApiMetrics {
  const registry = createMetricsRegistry("api");
  const registers = [registry];
  return {
    registry,
    access: metricsAccessRule(settings),
    httpRequests: new Counter({
      name: "auditlog_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    httpDuration: new Histogram({
      name: "auditlog_http_request_duration_seconds",
      help: "Time to answer (until the response's headers), by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventsAccepted: new Counter({
      name: "auditlog_ingest_events_accepted_total",
      help: "Events accepted (answered 202 and queued for the worker)",
      registers,
    }),
    ingestRequestsRefused: new Counter({
      name: "auditlog_ingest_requests_refused_total",
      help: "Ingest requests refused, by error code (nothing of a refused request is queued)",
      labelNames: ["reason"],
      registers,
    }),
    ingestEventsRefused: new Counter({
      name: "auditlog_ingest_events_refused_total",
      help: "Events in request bodies that were read and refused whole, by error code",
      labelNames: ["reason"],
      registers,
    }),
  };
}
