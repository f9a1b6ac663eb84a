/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by package, so a
 * benchmark's profile can be read in a report. `tsx bench/summarize-profile.ts <file> [top]`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Of a directory of profiles (one per thread), the one that was busiest: the main thread. */
export function busiestProfile(dir: string): string | null {
  let best: string | null = null;
  let bestBusy = -1;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".cpuprofile"))) {
    const file = path.join(dir, name);
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    const idle = new Set(
      profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id),
    );
    let busy = 0;
    profile.samples.forEach((id, i) => {
      if (!idle.has(id)) busy += profile.timeDeltas[i] ?? 0;
    });
    if (busy > bestBusy) {
      best = file;
      bestBusy = busy;
    }
  }
  return best;
}

export function summarizeProfile(fileOrDir: string, top = 25): string {
  const file = statSync(fileOrDir).isDirectory() ? busiestProfile(fileOrDir) : fileOrDir;
  if (!file) return `${fileOrDir}: no profile`;
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = frame.url
      .replace(/^file:\/\//, "")
      .replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, "");
    const name = `${frame.functionName || "(anonymous)"}  ${where ? `${where.replace(/^.*\/work\/main\//, "")}:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    let pkg = "(native / V8)";
    if (frame.functionName === "(garbage collector)") pkg = "(garbage collector)";
    else if (frame.functionName === "(idle)") pkg = "(idle)";
    else if (frame.functionName === "(program)") pkg = "(program)";
    else if (frame.url.includes("/node_modules/")) {
      const match = /\/node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(
        frame.url,
      );
      pkg = match?.[1] ?? "node_modules";
    } else if (frame.url.startsWith("node:")) pkg = "node: (core)";
    else if (frame.url.includes("/work/main/")) {
      pkg = frame.url
        .replace(/^.*\/work\/main\//, "")
        .split("/")
        .slice(0, 2)
        .join("/");
    }
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `${file}: ${(total / 1e6).toFixed(1)} s sampled`,
    "",
    "self time by package:",
    ...[...byPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, v]) => `  ${pct(v)}  ${k}`),
    "",
    `top ${top} functions by self time:`,
    ...[...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${pct(v)}  ${k}`),
  ];
  return lines.join("\n");
}

if (process.argv[1]?.endsWith("summarize-profile.ts")) {
  const [file, top] = process.argv.slice(2);
  if (!file)
    throw new Error("usage: tsx bench/summarize-profile.ts <file.cpuprofile or directory> [top]");
  process.stdout.write(`${summarizeProfile(file, Number(top ?? 25))}\n`);
}
