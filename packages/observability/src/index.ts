export * from "./env.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./read-replica-gauges.ts";
