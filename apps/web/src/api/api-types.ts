import type { AppType } from "@auditlog/api";
import type { hc, InferResponseType } from "hono/client";

/**
 * Response types of the API's account routes, inferred from its Hono app (type-only: nothing of
 * the API is bundled). Audit-log, export and notification payloads are parsed with the zod
 * schemas of @auditlog/events instead.
 */
type Client = ReturnType<typeof hc<AppType>>;

export type MeResponse = InferResponseType<Client["v1"]["me"]["$get"], 200>;
export type LoginResponse = InferResponseType<Client["v1"]["auth"]["login"]["$post"], 200>;
export type Organization = MeResponse["organizations"][number];
export type SignedInUser = MeResponse["user"];
