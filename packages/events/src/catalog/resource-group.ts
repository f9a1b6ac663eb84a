import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import type { Target } from "../envelope.ts";
import { details, fromTo, list, toggled } from "./describe-helpers.ts";
import { handle, handles, labels, orgRole, text } from "./fields.ts";

/** Resource groups use the organisation's roles. */
const rgRole = orgRole;

/** "resource group research", from `data.resourceGroup` or else from the target. */
function group(target: Target | undefined, name: string | undefined): string {
  const resolved = name ?? target?.name ?? target?.id;
  return resolved ? `resource group ${resolved}` : "a resource group";
}

const autoJoin = z.looseObject({ enabled: z.boolean(), role: rgRole.optional() });

export const resourceGroupEvents = [
  defineEvent({
    type: "resource_group.create",
    category: "resource_group",
    title: "Resource group created",
    data: z.looseObject({
      resourceGroup: handle,
      description: text.optional(),
      autoJoin: autoJoin.optional(),
    }),
    example: { resourceGroup: "research", autoJoin: { enabled: true, role: "read" } },
    describe: ({ actor, data }) => `${actor.name} created resource group ${data.resourceGroup}`,
  }),
  defineEvent({
    type: "resource_group.delete",
    category: "resource_group",
    title: "Resource group deleted",
    data: z.looseObject({ resourceGroup: handle.optional() }),
    example: { resourceGroup: "research" },
    describe: ({ actor, target, data }) =>
      `${actor.name} deleted ${group(target, data.resourceGroup)}`,
  }),
  defineEvent({
    type: "resource_group.settings",
    category: "resource_group",
    title: "Resource group settings updated",
    data: z.looseObject({
      resourceGroup: handle.optional(),
      fields: labels.optional(),
      autoJoin: autoJoin.optional(),
    }),
    example: { resourceGroup: "research", fields: ["name", "description"] },
    describe: ({ actor, target, data }) =>
      data.autoJoin && !data.fields?.length
        ? `${actor.name} ${toggled(data.autoJoin.enabled, "")} auto-join for ${group(target, data.resourceGroup)}`
        : `${actor.name} updated the settings of ${group(target, data.resourceGroup)}${details(data.fields)}`,
  }),
  defineEvent({
    type: "resource_group.add_users",
    personalData: ["users[].user"],
    category: "resource_group",
    title: "Users added to resource group",
    data: z.looseObject({
      resourceGroup: handle.optional(),
      users: z
        .array(z.looseObject({ user: handle, role: rgRole }))
        .min(1)
        .max(1000),
    }),
    example: {
      resourceGroup: "research",
      users: [
        { user: "bob", role: "write" },
        { user: "carol", role: "read" },
      ],
    },
    describe: ({ actor, target, data }) =>
      `${actor.name} added ${list(data.users.map(({ user, role }) => `${user} as ${role}`))} to ${group(target, data.resourceGroup)}`,
  }),
  defineEvent({
    type: "resource_group.remove_users",
    personalData: ["users[]"],
    category: "resource_group",
    title: "Users removed from resource group",
    data: z.looseObject({ resourceGroup: handle.optional(), users: handles }),
    example: { resourceGroup: "research", users: ["bob"] },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed ${list(data.users)} from ${group(target, data.resourceGroup)}`,
  }),
  defineEvent({
    type: "resource_group.change_role",
    personalData: ["user"],
    category: "resource_group",
    title: "Resource group role changed",
    data: z.looseObject({
      resourceGroup: handle.optional(),
      user: handle,
      oldRole: rgRole.optional(),
      newRole: rgRole,
    }),
    example: { resourceGroup: "research", user: "bob", oldRole: "read", newRole: "admin" },
    describe: ({ actor, target, data }) =>
      `${actor.name} changed ${data.user}'s role in ${group(target, data.resourceGroup)}${fromTo(data.oldRole, data.newRole)}`,
  }),
] as const;
