import { queryKeys, queryLimits } from "@auditlog/events";

/**
 * The query language (`q`) in Markdown, written from the parser's own key table
 * (packages/events/src/query/keys.ts), so the reference lists exactly the keys the API parses.
 */
export function queryLanguageMarkdown(): string {
  const rows = queryKeys.map((info) => {
    const names = [info.key, ...info.aliases].map((name) => `\`${name}:\``).join(", ");
    const examples = info.examples.map((example) => `\`${example}\``).join(" ");
    return `| ${names} | ${info.description} | ${info.negatable ? "yes" : "no"} | ${examples} |`;
  });
  return [
    "The list, histogram and facets routes, background exports, streams and the Hub export filter entries with `q`, a",
    "small query language (also the console's query bar). A query is a list of terms separated",
    "by spaces; every term must match (there is no `OR`, `AND`, `NOT` or parentheses: unquoted,",
    "they are refused as `unsupported_syntax`).",
    "",
    "- `key:value` keeps entries whose key has that value; the same key repeated is an",
    "  alternative (`type:repo.create type:repo.delete`).",
    "- `-key:value` excludes (not for `created`).",
    '- A bare word or a `"quoted phrase"` searches the entry\'s text (description, names, ids).',
    '- Values with spaces are quoted: `author:"Jane Doe"`; `\\"` escapes a quote inside.',
    "- `type:` takes an exact type or a scope wildcard (`type:org.*`); unknown types are refused.",
    "- Keys are case-insensitive; categories and countries are validated against their closed sets.",
    "",
    "| key | what | `-key:` | examples |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    `At most ${queryLimits.maxLength} characters and ${queryLimits.maxTerms} terms. A query that does not parse`,
    "answers 400 with one detail naming `q`, the `position` (0-based) of the bad term and the",
    '`token` itself, e.g. `unknown key "colour" at position 0`.',
    "",
    "Each filter parameter (`actor`/`author`, `type`, `category`, `target`, `ip`, `country`,",
    "`text`, `from`, `to`) is the same grammar for one key (comma-separated values are",
    "alternatives, except in `text`); they combine with `q` (alternatives united per key, time",
    "bounds intersected).",
  ].join("\n");
}
