import parsePrometheusTextFormat from "parse-prometheus-text-format";

/**
 * A `/metrics` answer read by a parser we did not write: a malformed exposition throws here.
 * That parser folds every labelled series of a histogram into one, so the figures are read from
 * a second parse without the TYPE lines, where `name_count` is a family of its own per series
 * (families of one name are joined). `value` sums every series of a family whose labels
 * include `labels`; `count` does the same with a histogram's `_count`. Both answer undefined
 * when no series matches, so a missing figure is told apart from a zero.
 */
export function readMetrics(text: string) {
  const typed = parsePrometheusTextFormat(text);
  const types = new Map(typed.map((family) => [family.name, family.type]));
  const samples = new Map<string, { labels?: Record<string, string>; value?: string }[]>();
  const untyped = text
    .split("\n")
    .filter((line) => !line.startsWith("# TYPE "))
    .join("\n");
  for (const family of parsePrometheusTextFormat(untyped)) {
    samples.set(family.name, [...(samples.get(family.name) ?? []), ...family.metrics]);
  }
  const matching = (name: string, labels: Record<string, string>) =>
    (samples.get(name) ?? []).filter((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
    );
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = matching(name, labels);
    return found.length === 0
      ? undefined
      : found.reduce((total, sample) => total + Number(sample.value), 0);
  };
  return {
    families: typed,
    type: (name: string) => types.get(name),
    value,
    count: (name: string, labels: Record<string, string> = {}) => value(`${name}_count`, labels),
    labelValues: (name: string, label: string) =>
      [...new Set(matching(name, {}).map((sample) => sample.labels?.[label]))].sort(),
  };
}
