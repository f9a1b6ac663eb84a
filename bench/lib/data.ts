import type { AuditEntryRow } from "@auditlog/db";
import { type EventType, eventDefinitions, getEventDefinition } from "@auditlog/events";
import { buildEntries, noGeolocation } from "@auditlog/worker";
import { rng, zipfSampler } from "./util.ts";

/*
 * Realistic events from the catalog: every type's `example` data, a Zipf-distributed mix of
 * types (sign-ins and repository changes dominate, as on the Hub) and of actors (a few very
 * active people, a long tail), targets for repository events, IPv4 and IPv6 addresses.
 */

/** The most frequent types first; the rest of the catalog follows in a fixed shuffled order. */
const commonTypes = [
  "org.sso_login",
  "repo.create",
  "repo.update_settings",
  "org.add_user",
  "repo.delete",
  "collection.create",
  "spaces.update_hardware",
  "org.change_role",
  "repo.add_secret",
  "jobs.create",
  "org.invite_user",
  "repo.move",
];

const firstNames =
  "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter yusuf zoe amir bea chen dana elif farah goran hana igor jana kofi lena mateo nadia omar pia quentin rosa sami tara umar vera wen xenia yara zane".split(
    " ",
  );
const surnames =
  "ng kim park smith garcia rossi muller dubois silva tanaka novak ivanova haddad okafor larsen".split(
    " ",
  );
const repoWords =
  "bert llama mistral whisper clip vit resnet gemma phi falcon bloom opus marian diffusion sdxl flux yolo detr sam donut layout pix2struct wav2vec hubert bark musicgen reviews squad imdb wiki code math chat instruct reward dpo sft tiny base large small mini nano embed rerank ocr vision audio speech translate summarize".split(
    " ",
  );
const userAgents = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
  "huggingface_hub/0.24.0; python/3.11.9; torch/2.3.1",
  "git/2.45.2",
  "curl/8.8.0",
];

export interface Actor {
  type: "user" | "token" | "system";
  id: string;
  name: string;
  avatarUrl?: string;
  tokenRole?: "read" | "write" | "fineGrained";
  tokenLast4?: string;
}

export interface EventFactory {
  actors: Actor[];
  types: EventType[];
  /** A valid event as a platform service posts it (full IP, no id: the API assigns one). */
  event(): Record<string, unknown>;
  /** A random public address: ~70% IPv4, ~30% IPv6. */
  ip(): string;
  /** The share of events of a type / by an actor rank, for choosing representative filters. */
  typeShare(type: string): number;
  actorShare(rank: number): number;
}

export function eventFactory(seed = 42, actorCount = 2000): EventFactory {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  const rest: string[] = eventDefinitions
    .map((d) => d.type as string)
    .filter((t) => !commonTypes.includes(t));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rng(i + seed)() * (i + 1));
    [rest[i], rest[j]] = [rest[j] as string, rest[i] as string];
  }
  const types = [...commonTypes, ...rest] as EventType[];
  const typeRank = zipfSampler(types.length, 1.0, random);
  const typeTotal = harmonic(types.length, 1.0);

  const actors: Actor[] = [];
  for (let i = 0; i < actorCount; i++) {
    const name = `${pick(firstNames)}-${pick(surnames)}${i}`;
    const r = random();
    if (r < 0.85) {
      actors.push({
        type: "user",
        id: `u_${(0x10000000 + i * 7919).toString(16)}`,
        name,
        avatarUrl: `https://cdn-avatars.example.test/${name}.png`,
      });
    } else if (r < 0.97) {
      actors.push({
        type: "token",
        id: `t_${(0x20000000 + i * 104729).toString(16)}`,
        name,
        tokenRole: pick(["read", "write", "fineGrained"] as const),
        tokenLast4: (1000 + i).toString(36).padStart(4, "x").slice(-4),
      });
    } else {
      actors.push({ type: "system", id: `svc_${i}`, name: `system-${pick(repoWords)}-${i}` });
    }
  }
  const actorRank = zipfSampler(actors.length, 1.0, random);
  const actorTotal = harmonic(actors.length, 1.0);

  const repos: string[] = [];
  for (let i = 0; i < 3000; i++) {
    repos.push(
      `${pick(["acme", "acme-research", "acme-labs"])}/${pick(repoWords)}-${pick(repoWords)}-${i % 97}`,
    );
  }

  const ip = () => {
    if (random() < 0.7) {
      // Public-looking unicast IPv4 (skip 0, 10, 127, 172, 192, ≥ 224).
      let first = 0;
      while ([0, 10, 127, 172, 192].includes(first) || first >= 224) {
        first = 1 + Math.floor(random() * 223);
      }
      return [first, ...[0, 0, 0].map(() => Math.floor(random() * 256))].join(".");
    }
    const prefix = pick([
      "2001:4860",
      "2a00:1450",
      "2a03:2880",
      "2406:da00",
      "2600:1f18",
      "2a01:4f8",
    ]);
    const groups = Array.from({ length: 6 }, () => Math.floor(random() * 0x10000).toString(16));
    return `${prefix}:${groups.join(":")}`;
  };

  const event = (): Record<string, unknown> => {
    const type = types[typeRank()] as EventType;
    const definition = getEventDefinition(type);
    const actor = actors[actorRank()] as Actor;
    const data = definition?.example as Record<string, unknown> | undefined;
    const input: Record<string, unknown> = {
      type,
      actor,
      data,
      context: { ip: ip(), userAgent: pick(userAgents) },
    };
    const dataRepo = data?.repo as { type?: string; name?: string } | undefined;
    if (dataRepo?.name) {
      input.target = { type: dataRepo.type ?? "model", id: dataRepo.name, name: dataRepo.name };
    } else if (/^(repo|spaces)\./.test(type)) {
      const repo = pick(repos);
      const repoType = type.startsWith("spaces.") ? "space" : pick(["model", "dataset", "space"]);
      input.target = { type: repoType, id: repo, name: repo };
    }
    return input;
  };

  return {
    actors,
    types,
    event,
    ip,
    typeShare: (type) => 1 / (types.indexOf(type as EventType) + 1) / typeTotal,
    actorShare: (rank) => 1 / (rank + 1) / actorTotal,
  };
}

function harmonic(n: number, s: number): number {
  let total = 0;
  for (let rank = 1; rank <= n; rank++) total += 1 / rank ** s;
  return total;
}

/** The stored form of one event, as the worker would build it (IP and location added later). */
/** A stored entry's columns that do not depend on where and when it is seeded. */
export type EntryTemplate = Omit<
  AuditEntryRow,
  | "orgId"
  | "id"
  | "occurredAt"
  | "receivedAt"
  | "ip"
  | "countryCode"
  | "region"
  | "city"
  | "oauthClientId"
  | "oauthName"
>;

/**
 * An event turned into a row by the worker's own `buildEntries` (validation, description,
 * category), without geolocation: the pool adds addresses and locations of its own.
 */
export function toTemplate(input: Record<string, unknown>): EntryTemplate {
  const built = buildEntries(
    {
      orgId: "org_bench_template",
      receivedAt: new Date().toISOString(),
      events: [{ ...input, id: "evt_bench_template" }],
    },
    noGeolocation,
    "bench-template",
  );
  const row = built.entries[0];
  if (!row) throw new Error(`bench event invalid: ${built.deadLetters[0]?.reason ?? "no row"}`);
  const {
    orgId: _orgId,
    id: _id,
    occurredAt: _occurredAt,
    receivedAt: _receivedAt,
    ip: _ip,
    countryCode: _countryCode,
    region: _region,
    city: _city,
    oauthClientId: _oauthClientId,
    oauthName: _oauthName,
    ...template
  } = row;
  return template;
}

/**
 * The word (letters only, ≥ 5 characters) whose share of descriptions is closest to `share`:
 * the free-text benchmark searches for it.
 */
export function wordWithShare(descriptions: readonly string[], share: number): string {
  const counts = new Map<string, number>();
  for (const description of descriptions) {
    const words = new Set(description.toLowerCase().match(/[a-z]{5,}/g) ?? []);
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  let best = "";
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [word, count] of counts) {
    const distance = Math.abs(count / descriptions.length - share);
    if (distance < bestDistance) {
      best = word;
      bestDistance = distance;
    }
  }
  return best;
}
