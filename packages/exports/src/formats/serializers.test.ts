import type { AuditEntry } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { csvColumns, csvField, neutraliseFormula } from "./csv.ts";
import { serializerFor } from "./serializers.ts";

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (char === '"') {
        quoted = false;
        i++;
      } else {
        field += char;
        i++;
      }
    } else if (char === '"' && field === "") {
      quoted = true;
      i++;
    } else if (char === ",") {
      record.push(field);
      field = "";
      i++;
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 2;
    } else {
      field += char;
      i++;
    }
  }
  if (field !== "" || record.length > 0) throw new Error("last record not terminated by CRLF");
  return records;
}

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: "evt_6756c0000000000000000001",
    type: "repo.create",
    category: "content",
    description: "alice created model acme/bert",
    occurredAt: "2026-11-26T10:00:00.000Z",
    receivedAt: "2026-11-26T10:00:00.000Z",
    hiddenByDefault: false,
    actor: {
      type: "user",
      id: "usr_1",
      name: "alice",
      avatarUrl: null,
      tokenRole: null,
      tokenLast4: null,
    },
    target: { type: "model", id: "acme/bert", name: "acme/bert" },
    ip: "203.0.113.0",
    location: { formatted: "Paris, FR", countryCode: "FR", region: "Île-de-France", city: "Paris" },
    userAgent: "curl/8",
    oauth: null,
    data: {},
    seq: 1,
    commitment: { salt: "AAAAAAAAAAAAAAAAAAAAAA==" },
    ...overrides,
  };
}

const hyperlink = '=HYPERLINK("http://x","y")';

describe("CSV formula neutralisation", () => {
  it.each([
    ["=1+1", "'=1+1"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tcmd", "'\tcmd"],
    ["\rcmd", "'\rcmd"],
    [hyperlink, `'${hyperlink}`],
  ])("prefixes %j", (value, expected) => {
    expect(neutraliseFormula(value)).toBe(expected);
  });

  it.each(["alice", "a=b", "1-2", "", " =not-first", "acme/bert"])("leaves %j alone", (value) => {
    expect(neutraliseFormula(value)).toBe(value);
  });

  it("quotes per RFC 4180 after neutralising", () => {
    expect(csvField(hyperlink)).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField("line1\nline2")).toBe('"line1\nline2"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("plain")).toBe("plain");
    expect(csvField(null)).toBe("");
  });
});

describe("export serializers", () => {
  const render = (format: "json" | "ndjson" | "csv", entries: AuditEntry[]) => {
    const serializer = serializerFor(format);
    return serializer.start + entries.map((e, i) => serializer.row(e, i)).join("") + serializer.end;
  };

  it("CSV: header, one record per entry, hostile cells neutralised, data kept as JSON", () => {
    const hostile = entry({
      description: hyperlink,
      actor: {
        type: "user",
        id: "usr_2",
        name: "+mallory",
        avatarUrl: null,
        tokenRole: null,
        tokenLast4: null,
      },
      target: { type: "model", id: "acme/x", name: "-evil" },
      userAgent: "@agent",
      data: { note: hyperlink, nested: { value: "=1+1" } },
    });
    const records = parseCsv(render("csv", [entry(), hostile]));
    expect(records[0]).toEqual([...csvColumns]);
    expect(records).toHaveLength(3);
    const row = Object.fromEntries(csvColumns.map((c, i) => [c, records[2]?.[i]]));
    expect(row.description).toBe(`'${hyperlink}`);
    expect(row.actorName).toBe("'+mallory");
    expect(row.targetName).toBe("'-evil");
    expect(row.userAgent).toBe("'@agent");
    expect(row.country).toBe("FR");
    expect(row.region).toBe("Île-de-France");
    expect(JSON.parse(row.data ?? "")).toEqual({ note: hyperlink, nested: { value: "=1+1" } });
    for (const record of records) {
      for (const cell of record) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it("JSON: one valid array, also when empty", () => {
    expect(JSON.parse(render("json", []))).toEqual([]);
    const parsed = JSON.parse(render("json", [entry(), entry({ id: "evt_2" })]));
    expect(parsed).toHaveLength(2);
    expect(parsed[1].id).toBe("evt_2");
  });

  it("NDJSON: one entry per line", () => {
    const lines = render("ndjson", [entry(), entry({ id: "evt_2" })])
      .split("\n")
      .filter(Boolean);
    expect(lines.map((line) => JSON.parse(line).id)).toEqual([entry().id, "evt_2"]);
  });
});
