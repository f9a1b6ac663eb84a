import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, resultsDir } from "./stack.ts";

export interface Figure {
  section: string;
  figure: string;
  value: number;
  unit: string;
  /** e.g. "≥ 25,000"; null for figures reported for context. */
  target: string | null;
  pass: boolean | null;
}

export function formatValue(figure: Figure): string {
  if (!Number.isFinite(figure.value)) return "n/a";
  const digits =
    figure.unit === "ms"
      ? figure.value < 10
        ? 2
        : 1
      : figure.unit === "%" || figure.unit === "µs"
        ? 1
        : 0;
  const text = figure.value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${text} ${figure.unit}`.trim();
}

function resultOf(figure: Figure): string {
  if (figure.pass === null) return "";
  return figure.pass ? "pass" : "SHORT";
}

/** The table as plain text for the terminal. */
export function textTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.figure, formatValue(f), f.target ?? "", resultOf(f)]);
  const header = ["Figure", "Measured", "Target", "Result"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 1 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number),
      )
      .join("  ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let section = "";
  for (const [i, figure] of figures.entries()) {
    if (figure.section !== section) {
      section = figure.section;
      out.push(`[${section}]`);
    }
    out.push(line(rows[i] as string[]));
  }
  return out.join("\n");
}

/** The table as Markdown, for BENCHMARKS.md. */
export function markdownTable(figures: Figure[]): string {
  const out = ["| Figure | Measured | Target | Result |", "| --- | ---: | --- | --- |"];
  let section = "";
  for (const f of figures) {
    if (f.section !== section) {
      section = f.section;
      out.push(`| **${section}** | | | |`);
    }
    const result = f.pass === null ? "" : f.pass ? "pass" : "**short**";
    out.push(`| ${f.figure} | ${formatValue(f)} | ${f.target ?? ""} | ${result} |`);
  }
  return out.join("\n");
}

/**
 * Writes the run's figures to a file of its own and, for a run of every phase, to
 * `latest-<size>.json` too: BENCHMARKS.md's "Latest full run" names that file, so a run of a
 * few phases must not replace it.
 */
export function writeResults(size: string, result: unknown, everyPhase: boolean): string {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = path.join(resultsDir, `${stamp}-${size}.json`);
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(file, text);
  if (everyPhase) writeFileSync(path.join(resultsDir, `latest-${size}.json`), text);
  return file;
}

const startMarker = "<!-- bench:latest-full:start -->";
const endMarker = "<!-- bench:latest-full:end -->";

/**
 * Replaces the generated part of BENCHMARKS.md (between the markers) with the latest full run;
 * everything outside the markers (analysis of misses, notes) is kept as written.
 */
export function updateBenchmarksMd(section: string): void {
  const file = path.join(repoRoot, "BENCHMARKS.md");
  const generated = `${startMarker}\n${section.trim()}\n${endMarker}`;
  if (!existsSync(file)) {
    writeFileSync(file, `# Benchmarks\n\n${generated}\n`);
    return;
  }
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  const updated =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${generated}${text.slice(end + endMarker.length)}`
      : `${text.trimEnd()}\n\n${generated}\n`;
  writeFileSync(file, updated);
}
