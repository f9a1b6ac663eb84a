export * from "./env.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
