export * from "./accounts.ts";
export * from "./client.ts";
export * from "./dead-letters.ts";
export * from "./entries.ts";
export * from "./entry-queries.ts";
export * from "./exports.ts";
export * from "./notifications.ts";
export * from "./sessions.ts";
