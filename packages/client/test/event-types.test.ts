import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { eventDefinitions } from "@auditlog/events";
import { describe, expect, expectTypeOf, it } from "vitest";
import { eventTypesSource } from "../scripts/event-types-source.ts";
import type { AuditEvent, EventDataByType, EventType } from "../src/index.ts";
import { buildClient } from "./support/build.ts";

describe("the client's event types, generated from the catalog", () => {
  it("are the generated file as the generator writes it now (run generate:event-types after a catalog change)", () => {
    const file = readFileSync(new URL("../src/generated/event-types.ts", import.meta.url), "utf8");
    expect(file).toBe(eventTypesSource());
  });

  it("hold every type an ingestion key may send, and none the API keeps for itself", () => {
    const source = eventTypesSource();
    for (const definition of eventDefinitions) {
      expect(source.includes(`  ${JSON.stringify(definition.type)}: {`), definition.type).toBe(
        definition.reservedForApi !== true,
      );
    }
  });

  it("let the type pick the shape of data", () => {
    expectTypeOf<EventDataByType["org.change_role"]["newRole"]>().toEqualTypeOf<
      "read" | "contributor" | "write" | "admin" | "auditor"
    >();
    expectTypeOf<"org.audit_log.export">().not.toExtend<EventType>();
    const good: AuditEvent = {
      type: "org.change_role",
      actor: { type: "user", id: "u_1", name: "alice" },
      data: { user: "bob", oldRole: "read", newRole: "write" },
    };
    // Types whose data has no required field may leave it out.
    const bare: AuditEvent = { type: "org.leave", actor: good.actor };
    const wrong = {
      type: "org.change_role",
      actor: good.actor,
      data: { user: "bob", oldRole: "read", newRole: "owner" },
    } as const;
    // @ts-expect-error "owner" is no role: the catalog's enum is the type's.
    const refused: AuditEvent = wrong;
    // @ts-expect-error org.change_role requires its data.
    const missing: AuditEvent = { type: "org.change_role", actor: good.actor };
    expect([good, bare, refused, missing].map((event) => event.type)).toEqual([
      "org.change_role",
      "org.leave",
      "org.change_role",
      "org.change_role",
    ]);
  });
});

describe("the client at run time", () => {
  it("imports nothing but its own files: the build loads with plain node and no node_modules", () => {
    const dist = buildClient();
    try {
      const specifiers: string[] = [];
      const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((name) =>
        name.endsWith(".js"),
      );
      for (const name of files) {
        const source = readFileSync(join(dist, name), "utf8");
        for (const match of source.matchAll(
          /(?:^|\n)\s*(?:import|export)[^;]*?from\s+"([^"]+)"/g,
        )) {
          specifiers.push(match[1] as string);
        }
        expect(source).not.toMatch(/\bimport\(|\brequire\(/);
      }
      expect(files).toContain("index.js");
      expect(specifiers.length).toBeGreaterThan(0);
      expect(specifiers.filter((specifier) => !specifier.startsWith("./"))).toEqual([]);
      // Outside the repository (no node_modules above it), with node alone.
      const run = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(join(dist, "index.js"))});
           const client = new m.AuditLogClient({ baseUrl: "http://127.0.0.1:9", apiKey: "k", handleExit: false });
           console.log(JSON.stringify({ id: m.newEventId(), stats: client.stats() }));`,
        ],
        { cwd: dist, encoding: "utf8", env: { PATH: process.env.PATH } },
      );
      expect(run.stderr).toBe("");
      expect(JSON.parse(run.stdout)).toMatchObject({
        id: expect.stringMatching(/^evt_[0-9a-f]{24}$/),
        stats: { recorded: 0, pending: 0 },
      });
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
