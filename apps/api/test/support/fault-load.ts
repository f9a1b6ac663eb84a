/**
 * The fault suite's clients: each posts batches of events without ids, every request with an
 * Idempotency-Key of its own, and retries a request answered 503 (or 429) with the same body and
 * key until it is answered 202, as a client of the README should. Every answer is counted.
 */

export interface LoadReport {
  /** Requests started (one body and key each, however often sent). */
  requests: number;
  /** Requests finally answered 202. */
  acknowledged: number;
  /** Requests acknowledged after at least one 503. */
  acknowledgedAfter503: number;
  /** Requests never answered 202 before their retry deadline. */
  gaveUp: number;
  /** Every answer of every attempt, by status; `network` for a failed connection. */
  answers: Record<string, number>;
  /** 503 answers without the common error body (`service_unavailable`, message, requestId). */
  unclean503: number;
  /** The ids of every acknowledged event. */
  acceptedIds: string[];
}

export interface LoadOptions {
  url: string;
  /**
   * Other API processes of the same deployment: after a failed connection a client sends its
   * next attempt (same body, same Idempotency-Key) to the next of `[url, ...otherUrls]`, as a
   * client behind a load balancer would.
   */
  otherUrls?: string[];
  apiKey: string;
  /** Names the requests' keys and the events' markers (target ids). */
  scenario: string;
  clients: number;
  batchSize: number;
  /** Pause of each client between two requests. */
  pauseMs: number;
  /** Stop after this many requests (else run until `stop()`). */
  maxRequests?: number;
  /** How long one request is retried before it counts as given up. */
  retryDeadlineMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The event at position `index` of request `request`: its target id marks it uniquely. */
export function faultEvent(scenario: string, request: number, index: number) {
  return {
    type: "repo.create",
    actor: { type: "user", id: `usr_${index % 7}`, name: `user${index % 7}` },
    target: { type: "model", id: `${scenario}/r${request}/e${index}`, name: "fault" },
    data: { repo: { type: "model", name: `${scenario}/r${request}/e${index}` } },
    context: { ip: `198.51.100.${(request + index) % 250}`, userAgent: "fault-suite/1.0" },
  };
}

function isCleanUnavailable(text: string): boolean {
  try {
    const { error } = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; requestId?: unknown };
    };
    return (
      error?.code === "service_unavailable" &&
      typeof error.message === "string" &&
      error.message.length > 0 &&
      typeof error.requestId === "string" &&
      error.requestId.startsWith("req_")
    );
  } catch {
    return false;
  }
}

export function startLoad(options: LoadOptions) {
  const report: LoadReport = {
    requests: 0,
    acknowledged: 0,
    acknowledgedAfter503: 0,
    gaveUp: 0,
    answers: {},
    unclean503: 0,
    acceptedIds: [],
  };
  const retryDeadlineMs = options.retryDeadlineMs ?? 90_000;
  let stopping = false;
  let next = 0;

  async function send(request: number): Promise<void> {
    const body = JSON.stringify({
      events: Array.from({ length: options.batchSize }, (_, i) =>
        faultEvent(options.scenario, request, i),
      ),
    });
    const headers = {
      authorization: `Bearer ${options.apiKey}`,
      "content-type": "application/json",
      "idempotency-key": `${options.scenario}-${request}`,
    };
    const deadline = Date.now() + retryDeadlineMs;
    const urls = [options.url, ...(options.otherUrls ?? [])];
    let target = 0;
    let saw503 = false;
    for (;;) {
      let answer = "network";
      let retryAfterMs = 250;
      try {
        const response = await fetch(`${urls[target % urls.length]}/v1/events`, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        answer = String(response.status);
        if (response.status === 202) {
          report.answers[answer] = (report.answers[answer] ?? 0) + 1;
          report.acknowledged++;
          if (saw503) report.acknowledgedAfter503++;
          report.acceptedIds.push(...(JSON.parse(text) as { ids: string[] }).ids);
          return;
        }
        if (response.status === 503) {
          saw503 = true;
          if (!isCleanUnavailable(text)) report.unclean503++;
        }
        if (response.status === 429) {
          retryAfterMs = 1000 * Number(response.headers.get("retry-after") ?? "1");
        }
      } catch {
        // Counted as `network`; with other URLs, the next attempt goes to the next API.
        target++;
      }
      report.answers[answer] = (report.answers[answer] ?? 0) + 1;
      if (Date.now() > deadline) {
        report.gaveUp++;
        return;
      }
      await sleep(retryAfterMs);
    }
  }

  const clients = Array.from({ length: options.clients }, async () => {
    while (!stopping && (options.maxRequests === undefined || next < options.maxRequests)) {
      const request = next++;
      report.requests++;
      await send(request);
      await sleep(options.pauseMs);
    }
  });
  const finished = Promise.all(clients).then(() => report);

  return {
    report,
    /** Resolves once every request started has been acknowledged or given up. */
    finished,
    /** No new requests; those started go on until acknowledged. */
    stop(): Promise<LoadReport> {
      stopping = true;
      return finished;
    },
  };
}
