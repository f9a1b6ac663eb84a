import { z } from "zod";
import { memberRoles } from "./roles.ts";

export const memberRole = z.enum(memberRoles);

/** `PATCH /v1/orgs/:org/members/:userId`: the member's new role. */
export const memberRoleUpdateSchema = z.strictObject({
  role: z.enum(memberRoles, { error: `must be one of ${memberRoles.join(", ")}` }),
});
export type MemberRoleUpdate = z.infer<typeof memberRoleUpdateSchema>;

/** A member as `GET /v1/orgs/:org/members` lists them (for the organisation's admins). */
export const memberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: memberRole,
  joinedAt: z.iso.datetime(),
});
export type Member = z.infer<typeof memberSchema>;

/** A page of members, oldest membership first; `nextCursor` is null on the last page. */
export const memberListSchema = z.object({
  members: z.array(memberSchema),
  nextCursor: z.string().nullable(),
});
