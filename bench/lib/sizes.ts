/** What each size runs. `full` is what the targets are judged on; `quick` is a smoke run (< 3 min). */
export interface BenchSize {
  name: "quick" | "full";
  /** Rows loaded by the raw COPY baseline (split over `copyStreams` connections). */
  copyRows: number;
  copyStreams: number;
  /** Rows of the direct-INSERT baseline (the worker's statement, without API or queue). */
  insertRows: number;
  /** Empty jobs added and drained by the raw BullMQ baseline. */
  bullmqJobs: number;
  /** Ingest at full speed: warm-up, then the measured window. */
  ingestWarmupSeconds: number;
  ingestWindowSeconds: number;
  ingestConnections: number;
  /** The second ingest run spreads the same load over this many organisations (issue 14). */
  spreadOrgs: number;
  /** Latency at half the measured committed rate. */
  latencySeconds: number;
  /** The query dataset: one big organisation and `otherOrgs` others sharing `otherEntries`. */
  bigOrgEntries: number;
  otherOrgs: number;
  otherEntries: number;
  /** An organisation used only for the large export (flat-memory check). */
  hugeOrgEntries: number;
  queryWarmupCalls: number;
  queryCalls: number;
  deepCursorDepth: number;
  /** Inclusion proofs timed against the 1,000,000-entry organisation (issue 14). */
  proofWarmupCalls: number;
  proofCalls: number;
}

export const sizes: Record<BenchSize["name"], BenchSize> = {
  quick: {
    name: "quick",
    copyRows: 100_000,
    copyStreams: 2,
    insertRows: 30_000,
    bullmqJobs: 5_000,
    ingestWarmupSeconds: 3,
    ingestWindowSeconds: 10,
    ingestConnections: 32,
    spreadOrgs: 1_000,
    latencySeconds: 8,
    bigOrgEntries: 30_000,
    otherOrgs: 3,
    otherEntries: 90_000,
    hugeOrgEntries: 150_000,
    queryWarmupCalls: 10,
    queryCalls: 60,
    deepCursorDepth: 2_000,
    proofWarmupCalls: 20,
    proofCalls: 300,
  },
  full: {
    name: "full",
    copyRows: 1_000_000,
    copyStreams: 2,
    insertRows: 300_000,
    bullmqJobs: 50_000,
    ingestWarmupSeconds: 5,
    ingestWindowSeconds: 60,
    ingestConnections: 32,
    spreadOrgs: 1_000,
    latencySeconds: 30,
    bigOrgEntries: 1_000_000,
    otherOrgs: 4,
    otherEntries: 4_000_000,
    hugeOrgEntries: 5_000_000,
    queryWarmupCalls: 20,
    queryCalls: 200,
    deepCursorDepth: 10_000,
    proofWarmupCalls: 50,
    proofCalls: 2_000,
  },
};
