export * from "./accounts.ts";
export * from "./client.ts";
export * from "./dead-letters.ts";
export * from "./entries.ts";
export * from "./entry-queries.ts";
export * from "./sessions.ts";
