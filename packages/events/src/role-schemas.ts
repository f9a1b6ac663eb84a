import { z } from "zod";
import { memberRoles } from "./roles.ts";

export const memberRole = z.enum(memberRoles);

/** `PATCH /v1/orgs/:org/members/:userId`: the member's new role. */
export const memberRoleUpdateSchema = z.strictObject({
  role: z.enum(memberRoles, { error: `must be one of ${memberRoles.join(", ")}` }),
});
export type MemberRoleUpdate = z.infer<typeof memberRoleUpdateSchema>;
