import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

// The hashing threads of `verify` run from plain JavaScript even where the app itself runs from
// TypeScript source (tsx, vitest, `pnpm auditlog`, the bench): a thread started through tsx
// loads tsx and its loader thread and compiles every module through them, which took 1.6–2.6 s
// of the threads' start under load, and V8 compiles all of that again in every thread. The
// worker's module graph is bundled once with esbuild (as `pnpm build` bundles
// leaf-hash-worker.js for production) into node_modules/.cache of this app, where its npm
// imports (pg) resolve as they do from the app's sources. The bundle's first line records the
// hash of every file it was made from; a later process reuses it while they are unchanged.
// Only imported from source (leaf-hasher.ts imports it by a computed URL, which the production
// bundle leaves alone): compiled code has its own compiled worker and never loads esbuild.

const entry = fileURLToPath(new URL("./leaf-hash-worker.ts", import.meta.url));
const defaultCacheDir = fileURLToPath(
  new URL("../../node_modules/.cache/auditlog/", import.meta.url),
);
const thisFile = fileURLToPath(import.meta.url);
const FILE_NAME = "leaf-hash-worker.mjs";
const HEADER = "// leaf-hash-worker inputs: ";

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** The recorded inputs of a cached bundle, when every one of them is unchanged. */
function freshBundle(file: string): boolean {
  let first: string;
  try {
    const text = readFileSync(file, "utf8");
    first = text.slice(0, text.indexOf("\n"));
  } catch {
    return false;
  }
  if (!first.startsWith(HEADER)) return false;
  try {
    const inputs = JSON.parse(first.slice(HEADER.length)) as Record<string, string>;
    // This module is an input too: a change to how the bundle is made makes a new one.
    if (inputs[thisFile] === undefined) return false;
    return Object.entries(inputs).every(([input, hash]) => sha256(input) === hash);
  } catch {
    return false;
  }
}

/**
 * esbuild turns every top-level `const` of a bundle into `var` (by design; it has no option
 * against it). V8 folds a module's `const` into optimised code but loads a `var` from the
 * module's context each time: the hashing threads spent ~5% more CPU per line on the bundle than
 * on the same modules under tsx (measured side by side in one process, 512 bench lines hashed
 * 1,000 times by each). Top-level `var`s assigned nowhere else are made `const` again; esbuild
 * then checks that nothing assigns to them (else the bundle stays as esbuild wrote it).
 */
async function constAgain(code: string): Promise<string> {
  const assignments = (name: string) => {
    const n = name.replaceAll("$", "\\$");
    return (
      code.match(
        new RegExp(
          `(?<![\\w$.])${n}\\s*(?:[-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?!=)|(?:\\+\\+|--)${n}(?![\\w$])|(?<![\\w$.])${n}(?:\\+\\+|--)`,
          "g",
        ),
      )?.length ?? 0
    );
  };
  const restored = code.replace(/^var ([\w$]+) = /gm, (whole, name: string) =>
    assignments(name) === 1 ? `const ${name} = ` : whole,
  );
  try {
    await transform(restored, {
      format: "esm",
      logLevel: "silent",
      logOverride: { "assign-to-constant": "error" },
    });
    return restored;
  } catch {
    return code;
  }
}

async function bundle(file: string): Promise<void> {
  const result = await build({
    absWorkingDir: dirname(entry),
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    target: "node20",
    metafile: true,
    logLevel: "silent",
    // npm packages stay imports, resolved from the cache directory as from the app's sources.
    plugins: [
      {
        name: "external-npm-packages",
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith("node:") || args.path.startsWith("@auditlog/")
              ? undefined
              : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  const bundled = result.outputFiles[0]?.text;
  if (!bundled) throw new Error("esbuild wrote no leaf-hash worker");
  const code = await constAgain(bundled);
  // import.meta would name the bundle, not the source files: none of the worker's modules uses
  // it today; one that starts to must be handled here as scripts/build-app.ts does.
  if (/\bimport\.meta\b/.test(code)) throw new Error("the leaf-hash worker uses import.meta");
  const inputs = Object.fromEntries(
    [
      ...Object.keys(result.metafile.inputs).map((input) => resolve(dirname(entry), input)),
      thisFile,
    ]
      .sort()
      .map((input) => [input, sha256(input)]),
  );
  mkdirSync(dirname(file), { recursive: true });
  // Written beside and renamed: a process starting its threads now reads a whole file.
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${HEADER}${JSON.stringify(inputs)}\n${code}`);
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * The path of the leaf-hash worker compiled to JavaScript: the cached bundle if its inputs are
 * unchanged, else a new one. Throws when it cannot be made (the caller falls back to tsx).
 */
export async function leafHashWorkerBundle(cacheDir = defaultCacheDir): Promise<string> {
  const file = join(cacheDir, FILE_NAME);
  if (!freshBundle(file)) await bundle(file);
  return file;
}
