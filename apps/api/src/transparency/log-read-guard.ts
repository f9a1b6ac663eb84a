import { requireOrgAdmin } from "../auth/require-org-admin.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitUserRequests } from "../http/rate-limit.ts";

/**
 * Who may read an organisation's checkpoints and proofs: whoever may read its entries (the list
 * API's admins, by session or personal access token), under the same per-person quota. Not the
 * per-organisation query slots: a proof is a few indexed reads, never a scan.
 */
export const logReadGuard = [userAuth, limitUserRequests, requireOrgAdmin()] as const;
