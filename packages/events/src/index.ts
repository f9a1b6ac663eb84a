export * from "./catalog/index.ts";
export * from "./define-event.ts";
export * from "./envelope.ts";
export * from "./ids.ts";
export * from "./query-language.ts";
export * from "./type-patterns.ts";
export * from "./validation.ts";
