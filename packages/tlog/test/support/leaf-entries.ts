import type { LeafEntry } from "../../src/index.ts";

// Fixed entries for the leaf's golden vectors: nulls, unicode, nested data, an IPv6 address.

export const goldenOrgId = "org_7f3a9c";

export const userEntry: LeafEntry = {
  id: "01J9Z8Q4X6V2M5T3K7H1B0N9RC",
  type: "repo.update",
  category: "repository",
  description: "Zoë Müller renamed “modèle-α” to “model-β” 🚀",
  occurredAt: "2026-03-01T12:34:56.789Z",
  receivedAt: "2026-03-01T12:34:57.001Z",
  hiddenByDefault: false,
  actor: {
    type: "user",
    id: "user_42",
    name: "Zoë Müller",
    avatarUrl: 'https://cdn.example/avatars/42.png?size=64&v="2"',
    tokenRole: null,
    tokenLast4: null,
  },
  target: { type: "model", id: "model_9", name: "model-β" },
  ip: "2001:db8:85a3::",
  location: { countryCode: "DE", region: "Berlin", city: "Berlin" },
  userAgent: "Mozilla/5.0 (X11; Linux x86_64)\tFirefox/128.0",
  oauth: null,
  data: {
    renamed: { from: "modèle-α", to: "model-β" },
    tags: ["nlp", "日本語", null, 3, -0, 1e21, 0.1],
    "\u20ac": { nested: [{ deep: [true, false, null] }] },
    Zebra: "sorts before a",
    a: 'line one\nline "two"\u0001',
  },
  commitment: { salt: "AAECAwQFBgcICQoLDA0ODw==" },
};

export const tokenEntry: LeafEntry = {
  id: "01J9Z8R0000000000000000001",
  type: "org.token.create",
  category: "organization",
  description: "A token was created",
  occurredAt: "2026-03-02T00:00:00.000Z",
  receivedAt: "2026-03-02T00:00:00.250Z",
  hiddenByDefault: true,
  actor: {
    type: "token",
    id: "token_abc",
    name: "ci-deploy",
    avatarUrl: null,
    tokenRole: "write",
    tokenLast4: "9f3c",
  },
  target: null,
  ip: null,
  location: null,
  userAgent: null,
  oauth: { clientId: "oauth_app_1", name: "Deploy Bot" },
  data: {},
  commitment: { salt: "/////////////////////w==" },
};

export const systemEntry: LeafEntry = {
  id: "01J9Z8S1111111111111111111",
  type: "billing.invoice.paid",
  category: "billing",
  description: "",
  occurredAt: "2026-02-28T23:59:59.999Z",
  receivedAt: "2026-03-01T00:00:00.000Z",
  hiddenByDefault: false,
  actor: {
    type: "system",
    id: "system",
    name: "",
    avatarUrl: null,
    tokenRole: null,
    tokenLast4: null,
  },
  target: { type: "invoice", id: "inv_2026_02", name: null },
  ip: "203.0.113.0",
  location: { countryCode: "FR", region: null, city: null },
  userAgent: "",
  oauth: { clientId: "oauth_app_2", name: null },
  data: { amount: 1234.5, currency: "EUR", lines: [] },
  commitment: { salt: "EjRWeJq83vASNFZ4mrze8A==" },
};
