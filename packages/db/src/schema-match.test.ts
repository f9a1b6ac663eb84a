import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareTestDatabase, testDatabaseUrl } from "./testing.ts";

/**
 * Prisma cannot apply our migrations here (no schema engine), so this proves the other direction:
 * the schema Prisma generates its client from describes exactly the tables dbmate creates.
 */
interface ModelField {
  column: string;
  prismaType: string;
  optional: boolean;
}
interface Model {
  name: string;
  table: string;
  fields: ModelField[];
}

const scalarTypes = new Set(["String", "Int", "BigInt", "Boolean", "DateTime", "Json", "Bytes"]);

function parsePrismaModels(schema: string): Model[] {
  const models: Model[] = [];
  for (const match of schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const [, name = "", body = ""] = match;
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? name;
    const fields: ModelField[] = [];
    for (const line of body.split("\n")) {
      const field = /^\s+(\w+)\s+(\w+)(\?|\[\])?(.*)$/.exec(line);
      if (!field) continue;
      const [, fieldName = "", type = "", modifier, attributes = ""] = field;
      if (!scalarTypes.has(type)) continue; // relations
      const nativeType = /@db\.(\w+)/.exec(attributes)?.[1];
      // A scalar list (`String[]`) is a PostgreSQL array, whose udt is the element's with `_`.
      const list = modifier === "[]" ? "[]" : "";
      fields.push({
        column: /@map\("([^"]+)"\)/.exec(attributes)?.[1] ?? fieldName,
        prismaType: `${nativeType ?? type}${list}`,
        optional: modifier === "?",
      });
    }
    models.push({ name, table, fields });
  }
  return models;
}

/** What PostgreSQL type each Prisma type (or native @db type) must be stored as. */
const expectedUdt: Record<string, string> = {
  String: "text",
  Int: "int4",
  BigInt: "int8",
  Boolean: "bool",
  DateTime: "timestamp",
  Timestamptz: "timestamptz",
  Json: "jsonb",
  Bytes: "bytea",
  Inet: "inet",
  SmallInt: "int2",
  "String[]": "_text",
};

const schema = readFileSync(new URL("../prisma/schema.prisma", import.meta.url), "utf8");
const models = parsePrismaModels(schema);

describe("Prisma schema against the migrated database", () => {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  beforeAll(async () => {
    await prepareTestDatabase();
    await client.connect();
  });
  afterAll(() => client.end());

  it("parses every model of the schema", () => {
    expect(models.map((m) => m.name).sort()).toEqual(
      [
        "ApiKey",
        "AuditEntry",
        "AuditLogCheckpoint",
        "AuditLogHead",
        "AuditLogTile",
        "AuditLogTree",
        "DeadLetter",
        "DeploymentSecret",
        "Erasure",
        "AlertRule",
        "LogStream",
        "Export",
        "Membership",
        "Notification",
        "Organization",
        "OrgRetentionSettings",
        "OrgWebhook",
        "OrgSsoConfig",
        "SsoIdentity",
        "PersonalAccessToken",
        "SavedView",
        "Session",
        "User",
        "ViewerLink",
      ].sort(),
    );
  });

  it("has a model for every table but dbmate's own", async () => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    );
    const tables = rows.map((r) => r.table_name).filter((t) => t !== "schema_migrations");
    expect(tables.sort()).toEqual(models.map((m) => m.table).sort());
  });

  it.each(models.map((m) => [m.name, m] as const))(
    "%s matches its table column by column",
    async (_name, model) => {
      const { rows } = await client.query<{
        column_name: string;
        udt_name: string;
        is_nullable: "YES" | "NO";
      }>(
        `SELECT column_name, udt_name, is_nullable FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1`,
        [model.table],
      );
      const actual = Object.fromEntries(
        rows.map((r) => [r.column_name, { udt: r.udt_name, nullable: r.is_nullable === "YES" }]),
      );
      const expected = Object.fromEntries(
        model.fields.map((f) => [
          f.column,
          { udt: expectedUdt[f.prismaType] ?? `unmapped ${f.prismaType}`, nullable: f.optional },
        ]),
      );
      expect(actual).toEqual(expected);
    },
  );
});
