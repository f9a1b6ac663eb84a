import type { AuditEntry, AuditExport } from "@auditlog/events";

export function makeEntry(index: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  const occurredAt = new Date(Date.parse("2026-03-01T12:00:00Z") - index * 60_000).toISOString();
  return {
    id: `evt_${String(index).padStart(24, "0")}`,
    type: "repo.create",
    category: "content",
    description: `alice created model acme/model-${index}`,
    occurredAt,
    receivedAt: occurredAt,
    hiddenByDefault: false,
    actor: {
      type: "user",
      id: "usr_alice",
      name: "alice",
      avatarUrl: null,
      tokenRole: null,
      tokenLast4: null,
    },
    target: { type: "model", id: `acme/model-${index}`, name: `acme/model-${index}` },
    ip: "203.0.113.0",
    location: {
      formatted: "Paris, Île-de-France, FR",
      countryCode: "FR",
      region: "Île-de-France",
      city: "Paris",
    },
    userAgent: "test-agent/1.0",
    oauth: null,
    data: { repo: { type: "model", name: `acme/model-${index}` }, private: true },
    seq: 1000 - index,
    commitment: { salt: "AAAAAAAAAAAAAAAAAAAAAA==" },
    ...overrides,
  };
}

export function makeExport(overrides: Partial<AuditExport> = {}): AuditExport {
  return {
    id: "exp_1",
    status: "queued",
    format: "csv",
    query: "author:alice",
    requestedBy: { id: "usr_1", name: "admin" },
    rowsWritten: 0,
    estimatedTotal: null,
    fileSize: null,
    error: null,
    createdAt: "2026-03-01T12:00:00.000Z",
    startedAt: null,
    finishedAt: null,
    expiresAt: null,
    manifest: null,
    ...overrides,
  };
}
