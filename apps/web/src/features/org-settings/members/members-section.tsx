import { type Member, type MemberRole, memberRoles } from "@auditlog/events";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Organization } from "../../../api/api-types.ts";
import { RelativeTime } from "../../../components/relative-time.tsx";
import { useNow } from "../../../lib/use-now.ts";
import { ListCard } from "../section-states.tsx";
import { SettingsTable } from "../settings-table.tsx";
import { memberListOptions, roleChangeError, useChangeMemberRole } from "./member-queries.ts";

export const roleLabels: Record<MemberRole, string> = {
  admin: "Admin",
  auditor: "Auditor",
  write: "Write",
  read: "Read",
};

const roleHints: Record<MemberRole, string> = {
  admin: "everything, settings included",
  auditor: "reads, searches, exports and verifies the log; changes nothing",
  write: "no access to the audit log",
  read: "no access to the audit log",
};

/**
 * Settings › Members: who belongs to the organisation and with which role. Admins only (the
 * API's role policy lists members to admins alone); each role change is recorded in the log and
 * takes effect on the member's next request.
 */
export function MembersSection({ org }: { org: Organization }) {
  const query = useInfiniteQuery(memberListOptions(org.slug));
  return (
    <section className="settings-section" aria-label="Members">
      <ListCard
        title="Members"
        intro={
          <>
            Roles:{" "}
            {memberRoles.map((role, index) => (
              <span key={role}>
                {index > 0 ? "; " : ""}
                <strong>{roleLabels[role]}</strong>, {roleHints[role]}
              </span>
            ))}
            . A change is recorded in the log and applies from the member's next request.
          </>
        }
        query={query}
        loadingLabel="Loading members"
        what="the members"
      >
        {(members) => (
          <>
            <MemberTable orgSlug={org.slug} members={members} />
            {query.hasNextPage ? (
              <button
                type="button"
                className="button"
                disabled={query.isFetchingNextPage}
                onClick={() => void query.fetchNextPage()}
              >
                {query.isFetchingNextPage ? "Loading…" : "Show more members"}
              </button>
            ) : null}
          </>
        )}
      </ListCard>
    </section>
  );
}

function MemberTable({ orgSlug, members }: { orgSlug: string; members: Member[] }) {
  const now = useNow(60_000);
  return (
    <SettingsTable className="stream-table member-table" columns={["Member", "Role", "Joined"]}>
      {members.map((member) => (
        <tr key={member.userId} data-member-id={member.userId}>
          <th scope="row">
            <span className="stream-name wrap">{member.name}</span>
            <span className="muted stream-hint wrap">{member.email}</span>
          </th>
          <td>
            <RoleControl orgSlug={orgSlug} member={member} />
          </td>
          <td data-label="Joined">
            <RelativeTime at={member.joinedAt} now={now} />
          </td>
        </tr>
      ))}
    </SettingsTable>
  );
}

/**
 * A role picker and its Change button: a select alone would send a change for every arrow key
 * pressed on it, each one recorded in the log.
 */
export function RoleControl({ orgSlug, member }: { orgSlug: string; member: Member }) {
  const [role, setRole] = useState<MemberRole>(member.role);
  const change = useChangeMemberRole(orgSlug);
  const selectId = `role-${member.userId}`;
  const errorId = `${selectId}-error`;
  return (
    <div className="settings-inline member-role">
      <label className="visually-hidden" htmlFor={selectId}>
        Role of {member.name}
      </label>
      <select
        id={selectId}
        className="input"
        value={role}
        aria-invalid={change.isError ? true : undefined}
        aria-describedby={change.isError ? errorId : undefined}
        onChange={(event) => {
          setRole(event.target.value as MemberRole);
          change.reset();
        }}
      >
        {memberRoles.map((option) => (
          <option key={option} value={option}>
            {roleLabels[option]}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="button button-small"
        disabled={role === member.role || change.isPending}
        aria-label={`Change role of ${member.name}`}
        onClick={() =>
          change.mutate(
            { member, role },
            // Refused: the picker goes back to the role the member still has.
            { onError: () => setRole(member.role) },
          )
        }
      >
        {change.isPending ? "Changing…" : "Change"}
      </button>
      {change.isError ? (
        <span id={errorId} className="field-error" role="alert">
          {roleChangeError(change.error, member)}
        </span>
      ) : change.isSuccess ? (
        <span className="muted" role="status">
          Changed to {roleLabels[change.variables.role].toLowerCase()}.
        </span>
      ) : null}
    </div>
  );
}
