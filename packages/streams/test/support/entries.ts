import { randomBytes } from "node:crypto";
import { type AuditEntry, type StreamEntry, streamEntryOf } from "@auditlog/events";

/** An audit entry as the API answers it, for sender tests (ids `ent_test_<seq>`). */
export function makeEntry(seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  const at = new Date(Date.UTC(2026, 11, 1, 23, 59, 0) + seq * 1000).toISOString();
  return {
    id: `ent_test_${seq}`,
    type: "org.member.invite",
    category: "membership",
    description: `Invited member ${seq}`,
    occurredAt: at,
    receivedAt: at,
    hiddenByDefault: false,
    actor: {
      type: "user",
      id: "usr_1",
      name: "Ada",
      avatarUrl: null,
      tokenRole: null,
      tokenLast4: null,
    },
    target: { type: "user", id: `usr_${seq}`, name: `member ${seq}` },
    ip: "203.0.113.7",
    location: null,
    userAgent: "test",
    oauth: null,
    data: { note: "x" },
    seq,
    commitment: { salt: randomBytes(16).toString("base64") },
    ...overrides,
  } as AuditEntry;
}

/** Entries `from`…`from + count - 1`, ascending seq. */
export function makeEntries(
  count: number,
  from = 1,
  overrides: Partial<AuditEntry> = {},
): AuditEntry[] {
  return Array.from({ length: count }, (_, i) => makeEntry(from + i, overrides));
}

/** The same entries as a stream batch holds them (each with its JSON text). */
export function makeStreamEntries(
  count: number,
  from = 1,
  overrides: Partial<AuditEntry> = {},
): StreamEntry[] {
  return makeEntries(count, from, overrides).map(streamEntryOf);
}
