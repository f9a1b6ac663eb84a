import { changeMembershipRole, type Role, removeMembership } from "@auditlog/db";
import { type ApiActor, type ApiClient, recordApiAction } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import type { Services } from "../services.ts";

type MemberServices = Pick<Services, "db" | "jobs" | "redis" | "env" | "logger">;

/**
 * Removes a member from an organisation: recorded (`org.remove_user`) in the organisation's log,
 * then removed, in one transaction — a removal that cannot be recorded does not happen. Every
 * credential of that user (sessions, personal access tokens, the export links they made) loses
 * the organisation at once: membership is read on every request, never cached. The user keeps
 * their other organisations. The last admin cannot be removed.
 */
export async function removeMember(
  services: MemberServices,
  input: {
    org: { id: string; slug: string };
    userId: string;
    actor: ApiActor;
    client: ApiClient;
  },
) {
  const result = await removeMembership(
    services.db,
    { orgId: input.org.id, userId: input.userId },
    (member) =>
      recordOrRefuse(services, input, "the removal could not be recorded, so nothing was removed", {
        type: "org.remove_user",
        target: { type: "user", id: member.user.id, name: member.user.name },
        data: { user: member.user.name, role: member.role },
      }),
  );
  if ("refused" in result) {
    if (result.refused === "last_admin") throw lastAdminConflict(input.org.slug);
    throw new ApiError("not_found", "member not found");
  }
  const { user, role } = result.removed;
  return { userId: user.id, email: user.email, name: user.name, role };
}

/**
 * Changes a member's role (to `auditor`, say): recorded (`org.change_role`, old and new role) in
 * the organisation's log, then changed, in one transaction — a change that cannot be recorded
 * does not happen. Takes effect on the member's next request (membership is read on every one).
 * The last admin cannot be demoted; setting the role a member has is a 409, recording nothing.
 */
export async function changeMemberRole(
  services: MemberServices,
  input: {
    org: { id: string; slug: string };
    userId: string;
    role: Role;
    actor: ApiActor;
    client: ApiClient;
  },
) {
  const result = await changeMembershipRole(
    services.db,
    { orgId: input.org.id, userId: input.userId, role: input.role },
    (change) =>
      recordOrRefuse(
        services,
        input,
        "the role change could not be recorded, so nothing was changed",
        {
          type: "org.change_role",
          target: { type: "user", id: change.user.id, name: change.user.name },
          data: {
            user: change.user.name,
            // The memberships check holds every stored role to the list.
            oldRole: change.oldRole as Role,
            newRole: change.newRole,
          },
        },
      ),
  );
  if ("refused" in result) {
    if (result.refused === "last_admin") throw lastAdminConflict(input.org.slug);
    if (result.refused === "unchanged") {
      throw new ApiError(
        "conflict",
        `this member's role in ${input.org.slug} is already ${input.role}`,
      );
    }
    throw new ApiError("not_found", "member not found");
  }
  const { user, oldRole, newRole } = result.changed;
  return { userId: user.id, email: user.email, name: user.name, oldRole, role: newRole };
}

/**
 * Records a membership change in the organisation's log, inside the change's transaction: when it
 * cannot be recorded, the 503 thrown here rolls the change back.
 */
async function recordOrRefuse(
  services: MemberServices,
  input: { org: { id: string }; actor: ApiActor; client: ApiClient },
  refusal: string,
  event: Parameters<typeof recordApiAction>[1]["event"],
): Promise<void> {
  try {
    await recordApiAction(services, {
      orgId: input.org.id,
      actor: input.actor,
      client: input.client,
      event,
    });
  } catch {
    throw new ApiError("service_unavailable", `${refusal}; retry later`);
  }
}

function lastAdminConflict(orgSlug: string): ApiError {
  return new ApiError(
    "conflict",
    `this is the last admin of ${orgSlug}; make someone else an admin first`,
  );
}
