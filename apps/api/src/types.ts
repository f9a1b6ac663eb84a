import type { Services } from "./services.ts";

/** What every handler can read from the context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    services: Services;
    /** Set by API-key authentication on ingestion routes. */
    ingestOrg: { id: string; slug: string; plan: string };
  };
}
