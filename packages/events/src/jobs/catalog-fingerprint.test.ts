import { describe, expect, it } from "vitest";
import { z } from "zod";
import { auditEventSchema } from "../catalog/index.ts";
import { catalogFingerprint, fingerprintCatalog } from "./ingest-jobs.ts";

describe("catalogFingerprint", () => {
  it("is the catalog's, and the same every time it is computed", () => {
    expect(catalogFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintCatalog(auditEventSchema)).toBe(catalogFingerprint);
  });

  it("changes with any rule: a field, a length, an allowed value", () => {
    const base = z.strictObject({ name: z.string().max(100), role: z.enum(["read", "write"]) });
    const variants = [
      base,
      base.extend({ extra: z.string().optional() }),
      base.extend({ name: z.string().max(101) }),
      base.extend({ role: z.enum(["read", "write", "admin"]) }),
      base.extend({ name: z.email() }),
    ];
    const fingerprints = new Set(variants.map((schema) => fingerprintCatalog(schema)));
    expect(fingerprints.size).toBe(variants.length);
  });
});
