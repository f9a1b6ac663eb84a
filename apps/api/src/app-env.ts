import type { Services } from "./services.ts";
import type { ViewerLinkContext } from "./viewer-links/viewer-link-auth.ts";

/** What every handler can read from the context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    services: Services;
    /** Set by API-key authentication on ingestion routes: the key's organisation, and the key. */
    ingestOrg: { id: string; slug: string; plan: string; keyId: string };
    /** Set by `userAuth` (auth/user-auth.ts): the signed-in user. */
    user: { id: string; email: string; name: string };
    /** How `userAuth` authenticated the user: session cookie or personal access token. */
    authMethod: "session" | "token";
    /** Set by `userAuth`: what the user authenticated with (streams re-check it while open). */
    credential: { kind: "session" | "token"; id: string };
    /** Set by `userAuth`: the cookie session, or null when authenticated by token. */
    session: { id: string; csrfToken: string; expiresAt: Date } | null;
    /** Set by `requireOrgRole` (auth/require-org-role.ts) on `:org` routes. */
    org: { id: string; slug: string; name: string; plan: string };
    /** Set by `viewerLinkAuth` on `/v1/viewer` routes: the link, its organisation and filter. */
    viewerLink: ViewerLinkContext;
    /**
     * Set by a route whose answer is a large stream (the Hub export, up to about 60 MB):
     * `compressAnswers` then uses its fastest levels, so compression keeps up with PostgreSQL.
     */
    compression: "fast";
    /** Set by `requireOrgRole`: the caller's role in `org` (one the route's policy allows). */
    role: string;
  };
}
