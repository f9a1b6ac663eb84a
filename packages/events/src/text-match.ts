// No zod here (nor in what imports this): the console's query completion folds text on its
// first screen without loading zod.

/**
 * Text folded for matching: without accents or case (`Zoë` → `zoe`, `Ærø` → `ærø`). Shared by
 * the API's matching and the console's highlighting, so both agree on what matches.
 */
export function foldForMatch(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLocaleLowerCase("en");
}

/** Whether `text` has a word starting with `prefix` (both folded), or starts with it. */
export function matchesWordPrefix(text: string, prefix: string): boolean {
  const folded = foldForMatch(text);
  const needle = foldForMatch(prefix);
  if (needle === "" || folded.startsWith(needle)) return true;
  return folded.split(/[\s._\-/@:]+/u).some((word) => word.startsWith(needle));
}
