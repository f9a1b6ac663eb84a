/**
 * Builds, once and thrown away, one of each kind of Intl formatter the log's first screen uses
 * (its times, relative times, country names and counts), so that the browser loads its
 * internationalisation data while the entry script waits for the console's chunks, not during
 * the first render. The first Intl formatter of a page pays for that loading: 35–400 ms of the
 * main thread here without CPU throttling, four times that under the weight test's emulation,
 * where the rows were waiting for it. Later formatters of the same kinds cost well under a
 * millisecond each.
 *
 * No imports: this runs in the entry chunk, before React. Each kind is its own task, so the
 * browser can take an arriving chunk between them; a browser without one of them skips it.
 */
const warmers: (() => unknown)[] = [
  // The table's "26 Nov, 14:03" in the local zone (format-time.ts), which builds the date
  // pattern generator, and the locale's time zone data.
  () =>
    new Intl.DateTimeFormat(undefined, {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(0),
  // Wall times (format-time.ts reads them in en-US) and the full timestamp of a row's title.
  () =>
    new Intl.DateTimeFormat("en-US", {
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    }).formatToParts(0),
  () => new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" }).format(0),
  () =>
    new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" }).format(-1, "hour"),
  () => new Intl.DisplayNames(undefined, { type: "region", fallback: "code" }).of("FR"),
  () => new Intl.NumberFormat().format(1234),
];

export function warmIntl(): void {
  const next = (index: number) => {
    const warm = warmers[index];
    if (!warm) return;
    try {
      warm();
    } catch {
      // An older browser without this formatter: the console copes (country-name.ts).
    }
    setTimeout(() => next(index + 1), 0);
  };
  setTimeout(() => next(0), 0);
}
