import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import type { Target } from "../envelope.ts";
import {
  count,
  details,
  duration,
  fromTo,
  list,
  repoLabel,
  repoSubject,
} from "./describe-helpers.ts";
import {
  handle,
  keyName,
  keyNames,
  label,
  labels,
  repoName,
  repoRef,
  repoType,
  text,
} from "./fields.ts";

/*
 * Events that create, delete or rename a repository carry it in `data` (required); events acting
 * on an existing repository take it from the target, and may repeat it as an optional `data.repo`.
 */

const optionalRepo = { repo: repoRef.optional() };
/** A move or a duplication: `owner/name` before and after. */
const fromToRepo = z.looseObject({
  from: repoName,
  to: repoName,
  repoType: repoType.optional(),
  private: z.boolean().optional(),
});
/** A resource group assignment; `null` means "no resource group". */
const resourceGroupChange = {
  from: handle.nullable().optional(),
  to: handle.nullable(),
};
const collectionRef = {
  /** `owner/title-id`, the Hub's collection slug. */
  slug: z.string().min(1).max(300),
  title: label.optional(),
};
const storageTier = z.enum(["small", "medium", "large"]);
const hardware = z.string().min(1).max(100);
/** Seconds of inactivity before a Space sleeps; -1 = never. */
const sleepTime = z.int().min(-1).max(31_536_000);

const repositories = [
  defineEvent({
    type: "repo.create",
    category: "content",
    title: "Repository created",
    data: z.looseObject({ repo: repoRef, private: z.boolean().optional() }),
    example: { repo: { type: "model", name: "acme/bert" }, private: false },
    describe: ({ actor, data }) =>
      `${actor.name} created ${data.private ? "private " : ""}${repoLabel(data.repo)}`,
  }),
  defineEvent({
    type: "repo.delete",
    category: "content",
    title: "Repository deleted",
    data: z.looseObject({ repo: repoRef }),
    example: { repo: { type: "dataset", name: "acme/reviews" } },
    describe: ({ actor, data }) => `${actor.name} deleted ${repoLabel(data.repo)}`,
  }),
  defineEvent({
    type: "repo.move",
    category: "content",
    title: "Repository moved",
    data: fromToRepo,
    example: { from: "alice/bert", to: "acme/bert", repoType: "model" },
    describe: ({ actor, data }) =>
      `${actor.name} moved ${repoLabel({ type: data.repoType, name: data.from })} to ${data.to}`,
  }),
  defineEvent({
    type: "repo.duplication",
    category: "content",
    title: "Repository duplicated",
    data: fromToRepo,
    example: { from: "acme/demo", to: "acme/demo-copy", repoType: "space", private: true },
    describe: ({ actor, data }) =>
      `${actor.name} duplicated ${repoLabel({ type: data.repoType, name: data.from })} to ${data.to}`,
  }),
  defineEvent({
    type: "repo.update_settings",
    category: "content",
    title: "Repository settings updated",
    data: z.looseObject({
      ...optionalRepo,
      fields: labels.optional(),
      private: z.boolean().optional(),
      gated: z.union([z.literal(false), z.enum(["auto", "manual"])]).optional(),
    }),
    example: { fields: ["private", "gated"], private: true, gated: "manual" },
    describe: ({ actor, target, data }) =>
      `${actor.name} updated the settings of ${repoSubject(target, data.repo)}${details(data.fields)}`,
  }),
  defineEvent({
    type: "repo.disable",
    category: "content",
    title: "Repository disabled",
    data: z.looseObject({ ...optionalRepo, reason: text.optional() }),
    example: { reason: "Terms of service violation" },
    describe: ({ actor, target, data }) =>
      `${actor.name} disabled ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.removeDisable",
    category: "content",
    title: "Repository re-enabled",
    data: z.looseObject({ ...optionalRepo }),
    example: {},
    describe: ({ actor, target, data }) =>
      `${actor.name} re-enabled ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.delete_doi",
    category: "content",
    title: "DOI deleted",
    data: z.looseObject({ ...optionalRepo, doi: z.string().min(1).max(300) }),
    example: { doi: "10.57967/hf/1234" },
    describe: ({ actor, target, data }) =>
      `${actor.name} deleted DOI ${data.doi} of ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.update_resource_group",
    category: "content",
    title: "Repository resource group changed",
    data: z.looseObject({ ...optionalRepo, ...resourceGroupChange }),
    example: { from: null, to: "research" },
    describe: ({ actor, target, data }) => {
      const repo = repoSubject(target, data.repo);
      if (data.to === null)
        return `${actor.name} removed ${repo} from ${data.from ? `resource group ${data.from}` : "its resource group"}`;
      return `${actor.name} moved ${repo} to resource group ${data.to}`;
    },
  }),
  defineEvent({
    type: "repo.delete_lfs_file",
    category: "content",
    title: "LFS file deleted",
    data: z.looseObject({
      ...optionalRepo,
      oid: z.string().min(1).max(128),
      path: z.string().min(1).max(1000).optional(),
      size: z.int().nonnegative().optional(),
    }),
    example: {
      oid: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      path: "model.safetensors",
      size: 438_000_000,
    },
    describe: ({ actor, target, data }) =>
      `${actor.name} deleted LFS file ${data.path ?? data.oid} from ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.add_trusted_publisher",
    category: "content",
    title: "Trusted publisher added",
    data: z.looseObject({
      ...optionalRepo,
      /** e.g. "github" */
      provider: label,
      /** The CI repository allowed to publish, e.g. "acme/bert-training". */
      repository: label.optional(),
      workflow: label.optional(),
      environment: label.optional(),
    }),
    example: { provider: "github", repository: "acme/bert-training", workflow: "release.yml" },
    describe: ({ actor, target, data }) =>
      `${actor.name} added trusted publisher ${data.provider}${data.repository ? ` ${data.repository}` : ""} to ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.remove_trusted_publisher",
    category: "content",
    title: "Trusted publisher removed",
    data: z.looseObject({
      ...optionalRepo,
      provider: label,
      repository: label.optional(),
      workflow: label.optional(),
      environment: label.optional(),
    }),
    example: { provider: "github", repository: "acme/bert-training" },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed trusted publisher ${data.provider}${data.repository ? ` ${data.repository}` : ""} from ${repoSubject(target, data.repo)}`,
  }),
] as const;

/*
 * Secrets: strict objects holding key names only, so `value`, `secret` or any other field is
 * rejected — a secret's value can never reach an entry. The repository comes from the target.
 */
const secretKey = z.strictObject({ key: keyName });
const secretKeys = z.strictObject({ keys: keyNames });

const secrets = [
  defineEvent({
    type: "repo.add_secret",
    category: "content",
    title: "Secret added",
    data: secretKey,
    example: { key: "HF_TOKEN" },
    describe: ({ actor, target, data }) =>
      `${actor.name} added secret ${data.key} to ${repoSubject(target)}`,
  }),
  defineEvent({
    type: "repo.update_secret",
    category: "content",
    title: "Secret updated",
    data: secretKey,
    example: { key: "HF_TOKEN" },
    describe: ({ actor, target, data }) =>
      `${actor.name} updated secret ${data.key} of ${repoSubject(target)}`,
  }),
  defineEvent({
    type: "repo.remove_secret",
    category: "content",
    title: "Secret removed",
    data: secretKey,
    example: { key: "HF_TOKEN" },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed secret ${data.key} from ${repoSubject(target)}`,
  }),
  defineEvent({
    type: "repo.add_secrets",
    category: "content",
    title: "Secrets added",
    data: secretKeys,
    example: { keys: ["OPENAI_API_KEY", "DB_PASSWORD"] },
    describe: ({ actor, target, data }) =>
      `${actor.name} added ${count(data.keys.length, "secret")} (${list(data.keys)}) to ${repoSubject(target)}`,
  }),
  defineEvent({
    type: "repo.remove_secrets",
    category: "content",
    title: "Secrets removed",
    data: secretKeys,
    example: { keys: ["OPENAI_API_KEY", "DB_PASSWORD"] },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed ${count(data.keys.length, "secret")} (${list(data.keys)}) from ${repoSubject(target)}`,
  }),
] as const;

/** Variables are not secret: their value may be recorded, but descriptions show the key only. */
const variable = z.looseObject({
  ...optionalRepo,
  key: keyName,
  value: z.string().max(10_000).optional(),
  description: text.optional(),
});
const variables = z.looseObject({ ...optionalRepo, keys: keyNames });

const repoVariables = [
  defineEvent({
    type: "repo.add_variable",
    category: "content",
    title: "Variable added",
    data: variable,
    example: { key: "MODEL_ID", value: "acme/bert" },
    describe: ({ actor, target, data }) =>
      `${actor.name} added variable ${data.key} to ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.update_variable",
    category: "content",
    title: "Variable updated",
    data: variable,
    example: { key: "MODEL_ID", value: "acme/bert-large" },
    describe: ({ actor, target, data }) =>
      `${actor.name} updated variable ${data.key} of ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.remove_variable",
    category: "content",
    title: "Variable removed",
    data: variable,
    example: { key: "MODEL_ID" },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed variable ${data.key} from ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.add_variables",
    category: "content",
    title: "Variables added",
    data: variables,
    example: { keys: ["MODEL_ID", "MAX_TOKENS"] },
    describe: ({ actor, target, data }) =>
      `${actor.name} added ${count(data.keys.length, "variable")} (${list(data.keys)}) to ${repoSubject(target, data.repo)}`,
  }),
  defineEvent({
    type: "repo.remove_variables",
    category: "content",
    title: "Variables removed",
    data: variables,
    example: { keys: ["MODEL_ID", "MAX_TOKENS"] },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed ${count(data.keys.length, "variable")} (${list(data.keys)}) from ${repoSubject(target, data.repo)}`,
  }),
] as const;

/** `collection "Best models"`, from `data` or else from the target. */
const collectionName = (
  data: { slug?: string | undefined; title?: string | undefined },
  target?: Target,
) => {
  const name = data.title ? `"${data.title}"` : (data.slug ?? target?.name ?? target?.id);
  return name ? `collection ${name}` : "a collection";
};

const collections = [
  defineEvent({
    type: "collection.create",
    category: "content",
    title: "Collection created",
    data: z.looseObject({ ...collectionRef, private: z.boolean().optional() }),
    example: { slug: "acme/best-models-65f0c0ffee", title: "Best models" },
    describe: ({ actor, data }) => `${actor.name} created ${collectionName(data)}`,
  }),
  defineEvent({
    type: "collection.delete",
    category: "content",
    title: "Collection deleted",
    data: z.looseObject(collectionRef),
    example: { slug: "acme/best-models-65f0c0ffee", title: "Best models" },
    describe: ({ actor, data }) => `${actor.name} deleted ${collectionName(data)}`,
  }),
  defineEvent({
    type: "collection.update_resource_group",
    category: "content",
    title: "Collection resource group changed",
    data: z.looseObject({
      slug: collectionRef.slug.optional(),
      title: collectionRef.title,
      ...resourceGroupChange,
    }),
    example: { slug: "acme/best-models-65f0c0ffee", from: "research", to: "production" },
    describe: ({ actor, target, data }) => {
      const collection = collectionName(data, target);
      if (data.to === null)
        return `${actor.name} removed ${collection} from ${data.from ? `resource group ${data.from}` : "its resource group"}`;
      return `${actor.name} moved ${collection} to resource group ${data.to}`;
    },
  }),
] as const;

/** Spaces: the Space is the target (or `data.repo`). */
const space = (target: Target | undefined, repo: z.output<typeof repoRef> | undefined) =>
  repoSubject(target, repo, "a Space");

const spaces = [
  defineEvent({
    type: "spaces.add_storage",
    category: "content",
    title: "Persistent storage added",
    data: z.looseObject({ ...optionalRepo, tier: storageTier }),
    example: { tier: "small" },
    describe: ({ actor, target, data }) =>
      `${actor.name} added ${data.tier} persistent storage to ${space(target, data.repo)}`,
  }),
  defineEvent({
    type: "spaces.remove_storage",
    category: "content",
    title: "Persistent storage removed",
    data: z.looseObject({ ...optionalRepo, tier: storageTier.optional() }),
    example: { tier: "small" },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed ${data.tier ? `${data.tier} ` : ""}persistent storage from ${space(target, data.repo)}`,
  }),
  defineEvent({
    type: "spaces.set_volumes",
    category: "content",
    title: "Volumes set",
    data: z.looseObject({
      ...optionalRepo,
      volumes: z
        .array(
          z.looseObject({
            /** The mounted repository or bucket, e.g. "acme/reviews". */
            source: label,
            mountPath: z.string().min(1).max(1000),
            readOnly: z.boolean().optional(),
          }),
        )
        .max(100),
    }),
    example: { volumes: [{ source: "acme/reviews", mountPath: "/data", readOnly: true }] },
    describe: ({ actor, target, data }) =>
      data.volumes.length === 0
        ? `${actor.name} removed all volumes from ${space(target, data.repo)}`
        : `${actor.name} set the volumes of ${space(target, data.repo)} to ${list(data.volumes.map((v) => `${v.source} at ${v.mountPath}`))}`,
  }),
  defineEvent({
    type: "spaces.remove_volumes",
    category: "content",
    title: "Volumes removed",
    data: z.looseObject({ ...optionalRepo, mountPaths: labels.optional() }),
    example: { mountPaths: ["/data"] },
    describe: ({ actor, target, data }) =>
      `${actor.name} removed ${data.mountPaths?.length ? `${data.mountPaths.length === 1 ? "volume" : "volumes"} ${list(data.mountPaths)}` : "the volumes"} from ${space(target, data.repo)}`,
  }),
  defineEvent({
    type: "spaces.update_hardware",
    category: "content",
    title: "Hardware changed",
    data: z.looseObject({ ...optionalRepo, from: hardware.optional(), to: hardware }),
    example: { from: "cpu-basic", to: "t4-small" },
    describe: ({ actor, target, data }) =>
      `${actor.name} changed the hardware of ${space(target, data.repo)}${fromTo(data.from, data.to)}`,
  }),
  defineEvent({
    type: "spaces.update_sleep_time",
    category: "content",
    title: "Sleep time changed",
    data: z.looseObject({ ...optionalRepo, from: sleepTime.optional(), to: sleepTime }),
    example: { from: 172_800, to: 3_600 },
    describe: ({ actor, target, data }) =>
      data.to < 0
        ? `${actor.name} set ${space(target, data.repo)} to never sleep`
        : `${actor.name} set the sleep time of ${space(target, data.repo)} to ${duration(data.to)}`,
  }),
] as const;

export const contentEvents = [
  ...repositories,
  ...secrets,
  ...repoVariables,
  ...collections,
  ...spaces,
] as const;
