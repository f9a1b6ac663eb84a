import { categories } from "../categories.ts";

export type QueryKey = "author" | "type" | "category" | "target" | "ip" | "country" | "created";

export interface QueryKeyInfo {
  key: QueryKey;
  /** Other spellings the parser accepts; `printQuery` always writes `key`. */
  aliases: readonly string[];
  description: string;
  /** Whether `-key:value` is allowed. */
  negatable: boolean;
  examples: readonly string[];
  /** The closed set of values, when there is one (for completion). */
  values?: readonly string[];
}

/**
 * ISO 3166-1 alpha-2 codes as officially assigned, plus `XK` (Kosovo), which geolocation
 * databases use.
 */
export const countryCodes: readonly string[] = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR " +
  "BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ " +
  "EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW " +
  "GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY " +
  "KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV " +
  "MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
  "QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG " +
  "TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA " +
  "ZM ZW"
).split(" ");
const countryCodeSet = new Set(countryCodes);

/** Whether `code` is an assigned ISO 3166-1 alpha-2 code (upper case), or `XK`. */
export function isCountryCode(code: string): boolean {
  return countryCodeSet.has(code);
}

export const queryKeys: readonly QueryKeyInfo[] = [
  {
    key: "author",
    aliases: ["actor"],
    description: "Who acted: a user or token name, or an actor id",
    negatable: true,
    examples: ["author:alice", 'author:"Jane Doe"', "-author:ci-bot"],
  },
  {
    key: "type",
    aliases: [],
    description: "Event type, exact or a scope wildcard",
    negatable: true,
    examples: ["type:repo.create", "type:org.*", "-type:org.sso_login"],
  },
  {
    key: "category",
    aliases: [],
    description: "Event category",
    negatable: true,
    examples: ["category:membership", "-category:billing"],
    values: categories,
  },
  {
    key: "target",
    aliases: [],
    description: "What was acted on: target id or name",
    negatable: true,
    examples: ["target:acme/model", '-target:"my space"'],
  },
  {
    key: "ip",
    aliases: [],
    description: "Client IP address or prefix (IPv4 or IPv6)",
    negatable: true,
    examples: ["ip:203.0.113.0", "ip:203.0.113.", "ip:2001:db8::"],
  },
  {
    key: "country",
    aliases: [],
    description: "Client country, ISO 3166-1 alpha-2 code",
    negatable: true,
    examples: ["country:FR", "-country:us"],
    values: countryCodes,
  },
  {
    key: "created",
    aliases: [],
    description:
      "When it happened (UTC): a day, a comparison (>=, >, <=, <) or an inclusive range (a..b)",
    negatable: false,
    examples: [
      "created:2026-01-01",
      "created:>=2026-01-01",
      "created:<2026-02-01T10:00:00Z",
      "created:2026-01-01..2026-01-31",
    ],
  },
];

const keyByName = new Map<string, QueryKey>(
  queryKeys.flatMap((info) => [info.key, ...info.aliases].map((name) => [name, info.key] as const)),
);

/** The key a qualifier's name spells, in any case and including aliases. */
export function findQueryKey(name: string): QueryKey | undefined {
  return keyByName.get(name.toLowerCase());
}
