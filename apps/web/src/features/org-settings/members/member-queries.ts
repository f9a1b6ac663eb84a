import type { Member, MemberRole } from "@auditlog/events";
import { infiniteQueryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiRequestError, apiRequest, errorMessage } from "../../../api/client.ts";

const membersPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/members`;

export const memberKeys = {
  all: (orgSlug: string) => ["orgs", orgSlug, "members"] as const,
  list: (orgSlug: string) => [...memberKeys.all(orgSlug), "list"] as const,
};

/**
 * The organisation's members and their roles (admins only: the API refuses anyone else), oldest
 * membership first, a page of 100 at a time.
 */
export function memberListOptions(orgSlug: string) {
  return infiniteQueryOptions({
    queryKey: memberKeys.list(orgSlug),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      apiRequest(
        `${membersPath(orgSlug)}${pageParam ? `?cursor=${encodeURIComponent(pageParam)}` : ""}`,
        { schema: (schemas) => schemas.memberListSchema, signal },
      ),
    getNextPageParam: (last) => last.nextCursor,
    // The API answers only the roles of the list (schemas.ts says why it is not checked here).
    select: (data) => data.pages.flatMap((page) => page.members) as Member[],
  });
}

export function useChangeMemberRole(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ member, role }: { member: Member; role: MemberRole }) =>
      apiRequest(`${membersPath(orgSlug)}/${encodeURIComponent(member.userId)}`, {
        method: "PATCH",
        body: { role },
      }),
    // Refused or not, the list is read again: another admin may have changed it meanwhile.
    onSettled: () => queryClient.invalidateQueries({ queryKey: memberKeys.list(orgSlug) }),
  });
}

/** Why a role change was refused, said plainly: a 409 is the last admin (or no change). */
export function roleChangeError(error: unknown, member: Member): string {
  if (error instanceof ApiRequestError && error.status === 409) {
    if (member.role === "admin" && /last admin/.test(error.message)) {
      return `${member.name} is the organisation's last admin: make another member an admin first.`;
    }
    return `Not changed: ${error.message}.`;
  }
  return `Not changed: ${errorMessage(error)}`;
}
