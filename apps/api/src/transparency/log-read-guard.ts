import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitUserRequests } from "../http/rate-limit.ts";

/**
 * Who may read an organisation's checkpoints and proofs: whoever may read its entries (its admins and
 * auditors, as the role policy says, by session or personal access token), under the same per-person quota. Not the
 * per-organisation query slots: a proof is a few indexed reads, never a scan.
 */
export const logReadGuard = [userAuth, limitUserRequests, requireOrgRole()] as const;
