import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import { memberRoles } from "../roles.ts";
import { details, fromTo, list } from "./describe-helpers.ts";
import { handle, label, labels, orgRole, orgRoles } from "./fields.ts";

/**
 * The role in a membership change: the Hub's roles, or auditlog's own (`auditor`, roles.ts) when
 * auditlog records a change of its own members (`org.remove_user`, `org.change_role`).
 */
export const memberOrOrgRoles = [...orgRoles, "auditor"] as const;
// Every auditlog member role is one of them (a compile error otherwise).
memberRoles satisfies readonly (typeof memberOrOrgRoles)[number][];
export const memberOrOrgRole = z.enum(memberOrOrgRoles);

const withRole = (role: string | undefined) => (role ? ` with role ${role}` : "");

export const membershipEvents = [
  defineEvent({
    type: "org.invite_user",
    personalData: ["user"],
    category: "membership",
    title: "User invited",
    data: z.looseObject({ user: handle, role: orgRole.optional() }),
    example: { user: "bob", role: "write" },
    describe: ({ actor, data }) => `${actor.name} invited ${data.user}${withRole(data.role)}`,
  }),
  defineEvent({
    type: "org.invite.email",
    personalData: ["email"],
    category: "membership",
    title: "Invitation emailed",
    data: z.looseObject({ email: z.email().max(320), role: orgRole.optional() }),
    example: { email: "bob@acme.com", role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} invited ${data.email} by email${withRole(data.role)}`,
  }),
  defineEvent({
    type: "org.invite.accept",
    personalData: ["invitedBy"],
    category: "membership",
    title: "Invitation accepted",
    data: z.looseObject({ invitedBy: handle.optional(), role: orgRole.optional() }),
    example: { invitedBy: "carol", role: "write" },
    describe: ({ actor, data }) =>
      `${actor.name} accepted ${data.invitedBy ? `${data.invitedBy}'s invitation` : "an invitation"} and joined the organization${withRole(data.role)}`,
  }),
  defineEvent({
    type: "org.join.from_domain",
    category: "membership",
    title: "Joined from verified domain",
    data: z.looseObject({ domain: label, role: orgRole.optional() }),
    example: { domain: "acme.com", role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} joined the organization from verified domain ${data.domain}${withRole(data.role)}`,
  }),
  defineEvent({
    type: "org.join.automatic",
    category: "membership",
    title: "Joined automatically",
    data: z.looseObject({ role: orgRole.optional(), reason: label.optional() }),
    example: { role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} joined the organization automatically${withRole(data.role)}`,
  }),
  defineEvent({
    type: "org.add_user",
    personalData: ["user"],
    category: "membership",
    title: "Member added",
    data: z.looseObject({ user: handle, role: memberOrOrgRole.optional() }),
    example: { user: "bob", role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} added ${data.user} to the organization${withRole(data.role)}`,
  }),
  defineEvent({
    type: "org.remove_user",
    personalData: ["user"],
    category: "membership",
    title: "Member removed",
    data: z.looseObject({ user: handle, role: memberOrOrgRole.optional() }),
    example: { user: "bob" },
    describe: ({ actor, data }) => `${actor.name} removed ${data.user} from the organization`,
  }),
  defineEvent({
    type: "org.change_role",
    personalData: ["user"],
    category: "membership",
    title: "Role changed",
    data: z.looseObject({ user: handle, oldRole: memberOrOrgRole, newRole: memberOrOrgRole }),
    example: { user: "bob", oldRole: "read", newRole: "write" },
    describe: ({ actor, data }) =>
      `${actor.name} changed ${data.user}'s role${fromTo(data.oldRole, data.newRole)}`,
  }),
  defineEvent({
    type: "org.leave",
    category: "membership",
    title: "Member left",
    data: z.looseObject({ role: orgRole.optional() }),
    example: { role: "contributor" },
    describe: ({ actor }) => `${actor.name} left the organization`,
  }),
  defineEvent({
    type: "org.update_join_settings",
    category: "membership",
    title: "Join settings updated",
    data: z.looseObject({
      allowJoinRequests: z.boolean().optional(),
      domains: labels.optional(),
      defaultRole: orgRole.optional(),
      fields: labels.optional(),
    }),
    example: { allowJoinRequests: true, domains: ["acme.com"], defaultRole: "read" },
    describe: ({ actor, data }) => {
      const parts = [
        ...(data.allowJoinRequests === undefined
          ? []
          : [`join requests ${data.allowJoinRequests ? "allowed" : "disallowed"}`]),
        ...(data.domains?.length ? [`domains ${list(data.domains)}`] : []),
        ...(data.defaultRole ? [`default role ${data.defaultRole}`] : []),
      ];
      return `${actor.name} updated the join settings${details(parts.length ? parts : data.fields)}`;
    },
  }),
] as const;
