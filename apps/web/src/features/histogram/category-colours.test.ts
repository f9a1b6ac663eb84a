import { readFileSync } from "node:fs";
import { join } from "node:path";
import { categories } from "@auditlog/events";
import { describe, expect, it } from "vitest";

/**
 * The category colours (styles.css, `--cat-*`) are badge text on a 10% tint of themselves and
 * chart fills on the card: they must read (WCAG 4.5:1 for text, 3:1 for graphics) and be told
 * apart (CIELAB distance ≥ 30 between any two; the old palette had 20 between indigo and purple).
 */

const css = readFileSync(join(import.meta.dirname, "../../styles.css"), "utf8");

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}
const linear = (c: number) => {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};
function luminance([r, g, b]: [number, number, number]): number {
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}
function contrast(a: [number, number, number], b: [number, number, number]): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (high + 0.05) / (low + 0.05);
}
function mixWithWhite(c: [number, number, number], share: number): [number, number, number] {
  return c.map((v) => Math.round(v * share + 255 * (1 - share))) as [number, number, number];
}
function lab(c: [number, number, number]): [number, number, number] {
  const [r, g, b] = c.map(linear) as [number, number, number];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** Every block of the stylesheet that sets the category colours (the default theme, others). */
function palettes(): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  for (const block of css.split("}")) {
    const entries = [...block.matchAll(/--cat-([a-z_]+):\s*(#[0-9a-fA-F]{6})/g)];
    if (entries.length > 0) {
      found.push(Object.fromEntries(entries.map((m) => [m[1] as string, m[2] as string])));
    }
  }
  return found;
}

describe("the category colours", () => {
  it("are set for every category, readable and far apart", () => {
    const sets = palettes();
    expect(sets.length).toBeGreaterThan(0);
    const root = sets[0] as Record<string, string>;
    expect(Object.keys(root).sort()).toEqual([...categories].sort());
    const surface = rgb(css.match(/--surface:\s*(#[0-9a-fA-F]{6})/)?.[1] ?? "#ffffff");
    for (const category of categories) {
      const colour = rgb(root[category] as string);
      expect(contrast(colour, mixWithWhite(colour, 0.1)), category).toBeGreaterThanOrEqual(4.5);
      expect(contrast(colour, surface), category).toBeGreaterThanOrEqual(3);
    }
    for (const [i, a] of categories.entries()) {
      for (const b of categories.slice(i + 1)) {
        const [l1, a1, b1] = lab(rgb(root[a] as string));
        const [l2, a2, b2] = lab(rgb(root[b] as string));
        expect(Math.hypot(l1 - l2, a1 - a2, b1 - b2), `${a} vs ${b}`).toBeGreaterThanOrEqual(30);
      }
    }
  });
});
