import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { readCheckpoint, readLogSize } from "@auditlog/db";
import { createTestDatabase } from "@auditlog/db/testing";
import {
  type AuditExport,
  type ExportFormat,
  type ExportManifest,
  exportManifestSchema,
  exportSchema,
} from "@auditlog/events";
import {
  csvColumns,
  type ExportVerification,
  signExportManifest,
  verifyExportFile,
} from "@auditlog/exports";
import {
  createKeyRing,
  formatVerifierKeyRing,
  openNote,
  parseKeyRing,
  readKeyRing,
  rotateKeyRing,
  toBase64,
} from "@auditlog/tlog";
import { testCheckpointKeyName, testCheckpointSigner } from "@auditlog/tlog/testing";
import type { startWorker } from "@auditlog/worker";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseVerifierKeys } from "../src/cli/verify-export-command.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  getJson,
  insertRows,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;
const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
const formats: ExportFormat[] = ["json", "ndjson", "csv"];
const verifiers = [testCheckpointSigner.verifierKey];

/** Entries with everything the leaf and the CSV must carry exactly. */
function hostileRows(orgId: string) {
  const base = Date.parse("2026-07-01T00:00:00Z");
  const at = (i: number) => new Date(base + i * 60_000);
  return Array.from({ length: 36 }, (_, i) =>
    entryRow(orgId, {
      occurredAt: at(i),
      receivedAt: new Date(at(i).getTime() + 1234),
      description: [
        '=HYPERLINK("http://x","y")',
        "'already quoted",
        "plain, with comma",
        "two\nlines",
        'say "hi"',
        "Zürich ✓ 東京",
        "-minus",
        "@at",
      ][i % 8] as string,
      actorName: i % 5 === 0 ? "+mallory" : `user${i}`,
      actorAvatarUrl: i % 4 === 0 ? `https://example.test/a/${i}.png` : null,
      actorType: i % 6 === 0 ? "token" : "user",
      actorTokenRole: i % 6 === 0 ? "write" : null,
      actorTokenLast4: i % 6 === 0 ? "a1b2" : null,
      targetType: i % 3 === 0 ? null : "model",
      targetId: i % 3 === 0 ? null : `acme/m-${i}`,
      targetName: i % 3 === 0 ? null : i % 2 === 0 ? "" : `'acme/m-${i}`,
      ip: i % 2 === 0 ? "203.0.113.0" : null,
      countryCode: i % 7 === 0 ? null : "FR",
      region: i % 7 === 1 ? "" : "Île-de-France",
      city: i % 7 === 2 ? null : "Paris",
      userAgent: i % 5 === 1 ? "" : i % 5 === 2 ? null : "\tagent/1.0",
      oauthClientId: i % 4 === 1 ? `client-${i}` : null,
      oauthName: i % 4 === 1 ? (i % 8 === 1 ? null : "Deploy Bot") : null,
      hiddenByDefault: i % 9 === 0,
      type: i % 9 === 0 ? "org.audit_log.export" : "repo.create",
      category: i % 9 === 0 ? "org" : "content",
      data: {
        n: i,
        big: 1e21,
        frac: -0.5,
        text: "=1+1",
        nested: { ü: [true, null, "x,y"] },
      },
    }),
  );
}

/** Each entry's bytes in a decompressed export (without separators) and its seq and id. */
function entrySpans(format: ExportFormat, text: string) {
  const spans: { start: number; end: number; seq: number; id: string; idEnd: number }[] = [];
  if (format === "csv") {
    let start = text.indexOf("\r\n") + 2;
    while (start < text.length) {
      const end = text.indexOf("\r\n", start);
      const record = text.slice(start, end);
      const id = record.slice(0, record.indexOf(","));
      // seq is the 18th column; the columns after `data` never hold a comma.
      const fromEnd = record.split(",").slice(-(csvColumns.length - csvColumns.indexOf("seq")));
      spans.push({ start, end, seq: Number(fromEnd[0]), id, idEnd: start + id.length + 1 });
      start = end + 2;
    }
  } else {
    let start = format === "json" ? 2 : 0;
    while (start < text.length && text[start] === "{") {
      const newline = text.indexOf("\n", start);
      const end = text[newline - 1] === "," ? newline - 1 : newline;
      const entry = JSON.parse(text.slice(start, end)) as { id: string; seq: number };
      // `{"id":"<id>"`: the id's quotes too (a changed quote shifts where the id seems to end).
      spans.push({ start, end, seq: entry.seq, id: entry.id, idEnd: start + 8 + entry.id.length });
      start = newline + 1;
    }
  }
  return spans;
}

async function requestExport(stack: Stack, slug: string, token: string, body: unknown) {
  const response = await stack.app.request(`/v1/orgs/${slug}/exports`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  const created = exportSchema.parse(await response.json());
  expect(created.manifest).toBeNull();
  return waitFor(
    async () =>
      (await getJson<AuditExport>(stack.app, `/v1/orgs/${slug}/exports/${created.id}`, token)).body,
    (e) => e.status !== "queued" && e.status !== "running",
    120_000,
  );
}

interface Downloaded {
  export: AuditExport;
  manifest: ExportManifest;
  file: string;
  manifestFile: string;
  text: string;
  gz: Buffer;
}

async function download(
  stack: Stack,
  slug: string,
  token: string,
  done: AuditExport,
  dir: string,
): Promise<Downloaded> {
  expect(done.status).toBe("ready");
  const headers = { authorization: `Bearer ${token}` };
  const fileResponse = await stack.app.request(`/v1/orgs/${slug}/exports/${done.id}/download`, {
    headers,
  });
  expect(fileResponse.status).toBe(200);
  const gz = Buffer.from(await fileResponse.arrayBuffer());
  const manifestResponse = await stack.app.request(`/v1/orgs/${slug}/exports/${done.id}/manifest`, {
    headers,
  });
  expect(manifestResponse.status).toBe(200);
  expect(manifestResponse.headers.get("content-disposition")).toBe(
    `attachment; filename="${slug}-audit-log-${done.id}.manifest.json"`,
  );
  const manifestText = await manifestResponse.text();
  const manifest = exportManifestSchema.parse(JSON.parse(manifestText));
  // The export object carries the same manifest.
  expect(done.manifest).toEqual(manifest);
  const file = join(dir, `${done.id}.${done.format}.gz`);
  const manifestFile = join(dir, `${done.id}.manifest.json`);
  await writeFile(file, gz);
  await writeFile(manifestFile, manifestText);
  return { export: done, manifest, file, manifestFile, text: gunzipSync(gz).toString("utf8"), gz };
}

function expectVerified(result: ExportVerification, root: "ok" | "not applicable") {
  expect(result.errors).toEqual([]);
  expect(result.checks).toEqual({
    manifestSignature: "ok",
    checkpointSignature: "ok",
    fileDigest: "ok",
    entries: "ok",
    root,
  });
  expect(result.ok).toBe(true);
}

const counts = {
  formatsVerified: 0,
  mutationsTried: 0,
  mutationsNamed: 0,
  tamperedManifests: 0,
  filteredVerified: 0,
  cliRuns: 0,
};

describe("verifiable exports", () => {
  let stack: Stack;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let dir: string;
  let org: { id: string; slug: string };
  let admin: { token: string };
  const db = createTestDatabase();
  const unfiltered = new Map<ExportFormat, Downloaded>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auditlog-verifiable-exports-"));
    stack = await startTestApi();
    worker = await startTestWorker(stack);
    ({ org } = await createOrgWithKey("team", "vexp"));
    admin = await createMemberWithToken(org.slug, "admin");
    await insertRows(hostileRows(org.id));
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.services.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
    console.log(`[verifiable exports] ${JSON.stringify(counts)}`);
  });

  it("cuts an unfiltered export of each format at a signed checkpoint; each verifies, root included", {
    timeout: 240_000,
  }, async () => {
    for (const format of formats) {
      const done = await requestExport(stack, org.slug, admin.token, {
        format,
        filters: { includeHidden: true },
      });
      const got = await download(stack, org.slug, admin.token, done, dir);
      const { manifest } = got;
      // The checkpoint it was cut at is one the worker stored, and the file holds all of it.
      const stored = await readCheckpoint(db, org.id, manifest.checkpoint.treeSize);
      expect(stored?.note).toBe(manifest.checkpoint.note);
      expect(toBase64(stored?.rootHash ?? new Uint8Array())).toBe(manifest.checkpoint.rootHash);
      expect(manifest.checkpoint.treeSize).toBeGreaterThanOrEqual(36);
      expect(manifest.checkpoint.treeSize).toBeLessThanOrEqual(await readLogSize(db, org.id));
      expect(manifest).toMatchObject({
        exportId: done.id,
        orgId: org.id,
        format,
        rows: manifest.checkpoint.treeSize,
        fileSize: got.gz.length,
        query: "",
        includeHidden: true,
        unfiltered: true,
        firstSeq: 1,
        lastSeq: manifest.checkpoint.treeSize,
      });
      expect(done.rowsWritten).toBe(manifest.rows);
      expect(entrySpans(format, got.text)).toHaveLength(manifest.rows);

      const result = await verifyExportFile({ file: got.file, manifest, verifiers });
      expectVerified(result, "ok");
      expect(result.treeSize).toBe(manifest.checkpoint.treeSize);
      unfiltered.set(format, got);
      counts.formatsVerified++;
    }
    // The CSV keeps its readable columns (and their neutralisation) first.
    const csv = unfiltered.get("csv")?.text ?? "";
    expect(csv.slice(0, csv.indexOf("\r\n")).split(",").slice(0, 17)).toEqual([
      ...["id", "occurredAt", "type", "category", "description", "actorType", "actorId"],
      ...["actorName", "targetType", "targetId", "targetName", "ip", "country", "region"],
      ...["city", "userAgent", "data"],
    ]);
    expect(csv).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csv).not.toMatch(/(^|,)[=+\-@\t]/m);
  });

  it("the CLI verifies offline (exit 0) and fails a changed file (exit 1), naming the entry", {
    timeout: 120_000,
  }, async () => {
    const got = unfiltered.get("ndjson");
    if (!got) throw new Error("the unfiltered NDJSON export is missing");
    const cli = (args: string[]) =>
      run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "verify-export", ...args], {
        cwd: apiDir,
        env: process.env,
        timeout: 60_000,
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code?: number; stdout?: string }) => ({
          code: error.code ?? -1,
          stdout: error.stdout ?? "",
        }),
      );
    const good = await cli([got.file, "--manifest", got.manifestFile, "--json"]);
    counts.cliRuns++;
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, checks: { root: "ok" } });

    const span = entrySpans("ndjson", got.text)[3];
    if (!span) throw new Error("no fourth entry");
    const changed = Buffer.from(got.text, "utf8");
    const at = span.end - 60;
    changed[at] = (changed[at] ?? 0) ^ 0x01;
    const changedFile = join(dir, "changed.ndjson.gz");
    await writeFile(changedFile, gzipSync(changed));
    const bad = await cli([changedFile, "--manifest", got.manifestFile, "--json"]);
    counts.cliRuns++;
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as ExportVerification;
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ entry: 4, seq: span.seq, id: span.id });
    expect(report.checks.fileDigest).toBe("failed");

    const text = await cli([got.file, "--manifest", got.manifestFile]);
    counts.cliRuns++;
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("verified");
  });

  it("one changed byte anywhere inside any entry fails, naming that entry (seq and id)", {
    timeout: 240_000,
  }, async () => {
    for (const format of formats) {
      const got = unfiltered.get(format);
      if (!got) throw new Error(`the unfiltered ${format} export is missing`);
      const spans = entrySpans(format, got.text);
      const bytes = Buffer.from(got.text, "utf8");
      // Byte offsets: the spans above are string offsets; convert via the UTF-8 prefix lengths.
      const byteOf = (index: number) => Buffer.byteLength(got.text.slice(0, index));
      const file = join(dir, `mutated.${format}.gz`);
      /** Sets byte `at` (inside entry `which`) to `to`, or to the next value if it already is. */
      const expectNamed = async (which: number, at: number, to: number) => {
        const span = spans[which];
        if (!span) throw new Error("no such entry");
        const changed = Buffer.from(bytes);
        changed[at] = changed[at] === to ? (to + 1) % 256 : to;
        await writeFile(file, gzipSync(changed));
        counts.mutationsTried++;
        const result = await verifyExportFile({ file, manifest: got.manifest, verifiers });
        const context = `${format} entry ${which + 1} byte ${at} → ${to}`;
        expect(result.ok, context).toBe(false);
        expect(result.checks.fileDigest, context).toBe("failed");
        expect(result.checks.entries, context).toBe("failed");
        expect(result.firstBad?.entry, context).toBe(which + 1);
        expect(result.firstBad?.seq, context).toBe(span.seq);
        // The id is read from the changed text: exact unless the byte changed is the id's own.
        if (at >= byteOf(span.idEnd)) expect(result.firstBad?.id, context).toBe(span.id);
        counts.mutationsNamed++;
      };
      // The bytes that throw a reader off most: quotes, separators, line ends, escapes.
      const structural = [0x22, 0x2c, 0x0a, 0x0d, 0x5c, 0x7b, 0x7d, 0x27];
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: spans.length - 1 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.oneof(fc.constantFrom(...structural), fc.integer({ min: 0, max: 255 })),
          async (which, where, to) => {
            const span = spans[which];
            if (!span) throw new Error("no such entry");
            const start = byteOf(span.start);
            const end = byteOf(span.end);
            await expectNamed(which, start + Math.floor(where * (end - start)), to);
          },
        ),
        { numRuns: 60 },
      );
      // And at chosen places of the fourth entry: its first quote, its seq, its digest.
      const span = spans[3];
      if (!span) throw new Error("no fourth entry");
      const entryText = got.text.slice(span.start, span.end);
      const seqAt =
        format === "csv"
          ? entryText.indexOf(`,${span.seq},`) + 1
          : entryText.indexOf(`"seq":${span.seq}`) + 6;
      for (const [offset, to] of [
        [entryText.indexOf('"'), 0x78],
        [seqAt, 0x22],
        [seqAt, 0x0a],
        [seqAt, 0x39],
        [entryText.length - 4, 0x22],
      ] as const) {
        await expectNamed(3, byteOf(span.start + offset), to);
      }
    }
  });

  it("a tampered manifest or a file with another digest fails", { timeout: 60_000 }, async () => {
    const got = unfiltered.get("json");
    if (!got) throw new Error("the unfiltered JSON export is missing");
    const tampered: [string, Record<string, unknown>, string][] = [
      ["rows", { ...got.manifest, rows: got.manifest.rows - 1 }, "rows"],
      ["fileSha256", { ...got.manifest, fileSha256: "0".repeat(64) }, "fileSha256"],
      ["unfiltered", { ...got.manifest, unfiltered: false }, "unfiltered"],
      [
        "signature",
        {
          ...got.manifest,
          signature: got.manifest.signature.replace(
            / (\S)(\S+)\n$/,
            (_, c: string, rest) => ` ${c === "A" ? "B" : "A"}${rest}\n`,
          ),
        },
        "signature",
      ],
    ];
    for (const [what, manifest, expected] of tampered) {
      const result = await verifyExportFile({ file: got.file, manifest, verifiers });
      expect(result.ok, what).toBe(false);
      expect(result.checks.manifestSignature, what).toBe("failed");
      expect(result.errors.join(" "), what).toContain(expected);
      counts.tamperedManifests++;
    }
    // A manifest signed by a key that is not the deployment's.
    const other = await createKeyRing(join(dir, "other-keys"), "auditlog.localhost");
    const { signature: _, ...body } = got.manifest;
    const forged = signExportManifest(
      { ...body },
      other.signer as NonNullable<typeof other.signer>,
    );
    const forgedResult = await verifyExportFile({ file: got.file, manifest: forged, verifiers });
    expect(forgedResult.checks.manifestSignature).toBe("failed");
    counts.tamperedManifests++;

    // The same entries, compressed again: every entry verifies, the file is not the one signed.
    const recompressed = join(dir, "recompressed.json.gz");
    await writeFile(recompressed, gzipSync(Buffer.from(got.text), { level: 9 }));
    const result = await verifyExportFile({
      file: recompressed,
      manifest: got.manifest,
      verifiers,
    });
    expect(result.ok).toBe(false);
    expect(result.checks).toMatchObject({ fileDigest: "failed", entries: "ok", root: "ok" });
    // The decompressed file as it is: the digest cannot match, and the message says why.
    const plain = join(dir, "plain.json");
    await writeFile(plain, got.text);
    const plainResult = await verifyExportFile({ file: plain, manifest: got.manifest, verifiers });
    expect(plainResult.checks).toMatchObject({ fileDigest: "failed", entries: "ok" });
    expect(plainResult.errors.join(" ")).toContain("not gzip");
    // An entry removed: the file's rows and the root no longer add up.
    const spans = entrySpans("json", got.text);
    const removedSpan = spans[5];
    if (!removedSpan) throw new Error("no sixth entry");
    const removed = join(dir, "removed.json.gz");
    await writeFile(
      removed,
      gzipSync(got.text.slice(0, removedSpan.start) + got.text.slice(removedSpan.end + 2)),
    );
    const removedResult = await verifyExportFile({
      file: removed,
      manifest: got.manifest,
      verifiers,
    });
    expect(removedResult.ok).toBe(false);
    expect(removedResult.checks.root).toBe("failed");
    expect(removedResult.errors.join(" ")).toContain(`lacks seq ${removedSpan.seq}`);
  });

  it("a filtered export verifies its digest and signatures, and says the root check does not apply", {
    timeout: 180_000,
  }, async () => {
    for (const [format, body] of [
      ["ndjson", { format: "ndjson", q: "type:repo.create" }],
      ["csv", { format: "csv" }],
    ] as const) {
      const done = await requestExport(stack, org.slug, admin.token, body);
      const got = await download(stack, org.slug, admin.token, done, dir);
      expect(got.manifest.unfiltered).toBe(false);
      expect(got.manifest.rows).toBeGreaterThan(0);
      expect(got.manifest.rows).toBeLessThan(got.manifest.checkpoint.treeSize);
      const result = await verifyExportFile({ file: got.file, manifest: got.manifest, verifiers });
      expectVerified(result, "not applicable");
      expect(result.notes.join(" ")).toContain("root check does not apply");
      // Its entries are still checked one by one.
      const span = entrySpans(format, got.text)[0];
      if (!span) throw new Error("no entry");
      const changed = Buffer.from(got.text, "utf8");
      const at = Buffer.byteLength(got.text.slice(0, span.end)) - 3;
      changed[at] = (changed[at] ?? 0) ^ 0x02;
      const file = join(dir, `filtered-changed.${format}.gz`);
      await writeFile(file, gzipSync(changed));
      const bad = await verifyExportFile({ file, manifest: got.manifest, verifiers });
      expect(bad.ok).toBe(false);
      expect(bad.firstBad).toMatchObject({ entry: 1, seq: span.seq, id: span.id });
      counts.filteredVerified++;
    }
  });
});

describe("verifiable exports across a key rotation", () => {
  let stack: Stack;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auditlog-export-rotation-"));
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.services.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("an export signed before a rotation verifies with the rotated ring's keys (file or JSON)", {
    timeout: 180_000,
  }, async () => {
    // A key file of this test's own: the shared test key must never rotate.
    const keyFile = join(dir, "checkpoint-keys");
    const before = await createKeyRing(keyFile, testCheckpointKeyName);
    stack = await startTestApi();
    worker = await startTestWorker(stack, { CHECKPOINT_KEY_FILE: keyFile });
    const { org } = await createOrgWithKey("team", "vexprot");
    const admin = await createMemberWithToken(org.slug, "admin");
    await insertRows(hostileRows(org.id).slice(0, 10));
    const done = await requestExport(stack, org.slug, admin.token, {
      format: "csv",
      filters: { includeHidden: true },
    });
    const got = await download(stack, org.slug, admin.token, done, dir);
    expect(got.manifest.signature).toContain(`— ${testCheckpointKeyName} `);

    const rotated = await rotateKeyRing(keyFile);
    expect(rotated.signer?.verifierKey).not.toBe(before.signer?.verifierKey);
    expect((await readKeyRing(keyFile)).verifiers).toHaveLength(2);
    // The rotated file (its public parts), a verifier-only copy, and /v1/checkpoint-keys' JSON.
    const verifierFile = join(dir, "verifiers");
    await writeFile(verifierFile, formatVerifierKeyRing(rotated));
    const keysJson = JSON.stringify({
      keys: rotated.verifiers.map((key) => ({
        name: key.name,
        keyId: key.keyId,
        algorithm: "Ed25519",
        publicKey: toBase64(key.publicKey),
        verifierKey: key.verifierKey,
        active: key.active,
      })),
    });
    for (const keys of [
      await readFile(keyFile, "utf8"),
      await readFile(verifierFile, "utf8"),
      keysJson,
    ]) {
      const result = await verifyExportFile({
        file: got.file,
        manifest: got.manifest,
        verifiers: parseVerifierKeys(keys),
      });
      expectVerified(result, "ok");
    }
    // The new key alone did not sign it: that fails.
    const newOnly = parseKeyRing(
      formatVerifierKeyRing({ verifiers: rotated.verifiers.filter((key) => key.active) }),
    ).verifiers;
    const result = await verifyExportFile({
      file: got.file,
      manifest: got.manifest,
      verifiers: newOnly,
    });
    expect(result.ok).toBe(false);
    expect(result.checks.manifestSignature).toBe("failed");

    // An export after the rotation is signed by the new key (read at each build, no restart);
    // its checkpoint may still be one the old key signed, so the whole ring verifies it.
    const after = await requestExport(stack, org.slug, admin.token, { format: "json" });
    const gotAfter = await download(stack, org.slug, admin.token, after, dir);
    expect(openNote(gotAfter.manifest.signature, newOnly).signatures).toHaveLength(1);
    expectVerified(
      await verifyExportFile({
        file: gotAfter.file,
        manifest: gotAfter.manifest,
        verifiers: rotated.verifiers,
      }),
      "not applicable",
    );
  });
});
