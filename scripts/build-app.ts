import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, type Metafile, type Plugin } from "esbuild";

/**
 * The production build of one app (`pnpm build`, each app's `build` script): every entry bundled
 * with esbuild into `<app>/dist/<name>.js`, so production runs `node dist/<name>.js` with no
 * TypeScript compiler and no tsx at run time.
 *
 * - Our internal packages (`@auditlog/*`) export TypeScript source: they are bundled in.
 * - Every other package (npm) stays external and is resolved by Node at run time from the app's
 *   own node_modules: the app's package.json must list it. The build refuses to finish when it
 *   does not (pnpm's node_modules are strict: a dependency of packages/db is not visible from
 *   apps/api unless apps/api lists it too).
 * - `import.meta.url` in a bundled module is replaced by the URL of its source file, computed
 *   from the bundle's own location, so `new URL("../migrations", import.meta.url)` and the like
 *   (migrations, .data/, the console's dist, the Hub schema, createRequire) keep naming the same
 *   files as under tsx, wherever the repository is. `import.meta.filename` and `dirname` are left
 *   alone: they name the file that runs (the bundle), for code that must find a compiled sibling.
 *
 * usage (in the app's directory): tsx ../../scripts/build-app.ts <name>=<entry.ts> …
 * It writes dist/ whole or not at all (built beside it, then swapped in), and dist/build.json:
 * the source files it was built from, so a test can refuse a dist older than its sources.
 */

export interface BuildInfo {
  builtAt: string;
  /** Source files (relative to the repository root) bundled into dist, with their SHA-256. */
  inputs: Record<string, string>;
  /** npm packages dist imports at run time. */
  external: string[];
}

const repoRoot = resolve(import.meta.dirname, "..");

/** `pg` of `pg/lib/x`, `@aws-sdk/client-s3` of `@aws-sdk/client-s3/dist/x`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

function externalNpmPackages(external: Set<string>): Plugin {
  return {
    name: "external-npm-packages",
    setup(build) {
      // A bare specifier that is not one of ours: external, recorded for the check below.
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:") || args.path.startsWith("@auditlog/")) return undefined;
        external.add(packageName(args.path));
        return { path: args.path, external: true };
      });
    },
  };
}

function sourceImportMetaUrl(outdir: string): Plugin {
  return {
    name: "source-import-meta-url",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("import.meta.url")) return undefined;
        const fromBundle = relative(outdir, args.path).split("\\").join("/");
        const replacement = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
        return {
          contents: source.replaceAll(/\bimport\.meta\.url\b/g, replacement),
          loader: "ts",
        };
      });
    },
  };
}

/**
 * Each external package must be found as Node finds it from dist: a `node_modules/<name>` folder
 * in the app's directory or one above. (Looked up by hand: this script runs under tsx, whose
 * resolver also finds packages Node would not.)
 */
function unresolvable(appDir: string, packages: Iterable<string>): string[] {
  const visible = (name: string) => {
    for (let dir = appDir; ; dir = dirname(dir)) {
      if (existsSync(join(dir, "node_modules", name, "package.json"))) return true;
      if (dirname(dir) === dir) return false;
    }
  };
  return [...packages].filter((name) => !visible(name));
}

export async function buildApp(appDir: string, entries: Record<string, string>): Promise<void> {
  const outdir = join(appDir, "dist");
  const staging = join(appDir, `dist.building-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const external = new Set<string>();
  try {
    const result = await build({
      absWorkingDir: appDir,
      entryPoints: Object.entries(entries).map(([out, input]) => ({ out, in: input })),
      outdir: staging,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: "linked",
      metafile: true,
      logLevel: "warning",
      // Replacements are computed against dist/, where the files end up.
      plugins: [externalNpmPackages(external), sourceImportMetaUrl(outdir)],
    });
    const missing = unresolvable(appDir, external);
    if (missing.length > 0) {
      throw new Error(
        `${relative(repoRoot, appDir)}/dist imports ${missing.join(", ")}, which Node cannot ` +
          `resolve from ${relative(repoRoot, appDir)}: add them to its package.json dependencies`,
      );
    }
    const info: BuildInfo = {
      builtAt: new Date().toISOString(),
      inputs: inputsOf(result.metafile, appDir),
      external: [...external].sort(),
    };
    writeFileSync(join(staging, "build.json"), `${JSON.stringify(info, null, 2)}\n`);
    // Swap: a process starting now sees the old dist or the new one, never half of one.
    const previous = `${outdir}.previous-${process.pid}`;
    if (existsSync(outdir)) renameSync(outdir, previous);
    renameSync(staging, outdir);
    rmSync(previous, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function inputsOf(metafile: Metafile, appDir: string): Record<string, string> {
  const files = Object.keys(metafile.inputs).map((input) => resolve(appDir, input));
  return Object.fromEntries(files.sort().map((file) => [relative(repoRoot, file), sha256(file)]));
}

// By content, not modification time: a checkout or a cache restore changes times only.
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** The source files dist was built from that changed since (empty: dist is current). */
export function staleInputs(appDir: string): string[] | "missing" {
  const infoFile = join(appDir, "dist", "build.json");
  if (!existsSync(infoFile)) return "missing";
  const info = JSON.parse(readFileSync(infoFile, "utf8")) as BuildInfo;
  return Object.entries(info.inputs)
    .filter(([input, hash]) => {
      const file = join(repoRoot, input);
      return !existsSync(file) || sha256(file) !== hash;
    })
    .map(([input]) => input);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { positionals } = parseArgs({ allowPositionals: true });
  const entries = Object.fromEntries(
    positionals.map((pair) => {
      const [name, entry] = pair.split("=");
      if (!name || !entry) throw new Error(`expected <name>=<entry.ts>, got ${pair}`);
      return [name, entry];
    }),
  );
  await buildApp(process.cwd(), entries);
  console.log(`built ${relative(repoRoot, join(process.cwd(), "dist"))}`);
}
