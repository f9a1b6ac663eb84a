import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { HtmlTagDescriptor, Plugin, ResolvedConfig } from "vite";

/** What is worth compressing: text. Images other than SVG are compressed already. */
const compressible = /\.(js|mjs|css|html|svg|json|txt|webmanifest)$/;

/**
 * Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip -9) next to every text file of
 * the build, so the API serves compressed bytes without compressing on each request (and at a
 * level too slow to use on the fly). A variant that is not smaller than the file is not written.
 * node:zlib only: no compression dependency.
 */
export function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "auditlog:precompress",
    apply: "build",
    configResolved(config: ResolvedConfig) {
      outDir = resolve(config.root, config.build.outDir);
    },
    // After every file (public/ included) is written.
    closeBundle() {
      for (const file of filesUnder(outDir)) {
        if (!compressible.test(file)) continue;
        const bytes = readFileSync(file);
        const variants: [string, Buffer][] = [
          [
            ".br",
            brotliCompressSync(bytes, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
              },
            }),
          ],
          [".gz", gzipSync(bytes, { level: 9 })],
        ];
        for (const [suffix, compressed] of variants) {
          if (compressed.length < bytes.length) writeFileSync(file + suffix, compressed);
        }
      }
    },
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The entry (main.tsx) is tiny: it starts the first API requests and then imports the console
 * (boot.tsx) dynamically. Without a hint the browser would discover the console's chunks only
 * once the entry has run, one round trip late: this lists them in index.html as
 * `<link rel="modulepreload">`, so they download alongside the entry. Lazy features (dialogs,
 * drawer, verifier) are not listed: they load when first used. The entry's script is made
 * `async`, so its requests start the moment it arrives.
 */
export function preloadBoot(): Plugin {
  let base = "/";
  return {
    name: "auditlog:preload-boot",
    apply: "build",
    configResolved(config: ResolvedConfig) {
      base = config.base;
    },
    transformIndexHtml: {
      order: "post",
      handler(html, context) {
        const { bundle, chunk: entry } = context;
        if (!bundle || !entry) return html;
        const wanted = new Set<string>();
        const visit = (fileName: string) => {
          const chunk = bundle[fileName];
          if (!chunk || chunk.type !== "chunk" || wanted.has(fileName)) return;
          wanted.add(fileName);
          for (const imported of chunk.imports) visit(imported);
        };
        for (const imported of entry.dynamicImports) visit(imported);
        wanted.delete(entry.fileName);
        for (const imported of entry.imports) wanted.delete(imported);
        const tags = [...wanted].map(
          (fileName): HtmlTagDescriptor => ({
            tag: "link",
            attrs: { rel: "modulepreload", crossorigin: true, href: `${base}${fileName}` },
            injectTo: "head",
          }),
        );
        // `async`: the entry runs as soon as it has arrived, not after the stylesheet and the
        // parsing of the preloaded chunks, which on a slow CPU held its requests back by seconds.
        const script = `<script type="module" crossorigin src="${base}${entry.fileName}">`;
        if (!html.includes(script)) throw new Error(`preloadBoot: no ${script} in index.html`);
        return {
          html: html.replace(script, script.replace("<script ", "<script async ")),
          tags,
        };
      },
    },
  };
}
