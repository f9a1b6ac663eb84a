import { QueryParseError } from "./errors.ts";
import { findQueryKey, type QueryKey, queryKeys } from "./keys.ts";

/** What a person may type (the query bar, `q`, a filter parameter). */
export const queryLimits = { maxLength: 2000, maxTerms: 50 } as const;

/**
 * What a query the API composed and printed itself may hold: an export's stored filter, the
 * query recorded in the log. Printing quotes and escapes values, so a valid 2,000-character `q`
 * can print up to about twice as long, and `q` merged with filter parameters longer still.
 */
export const storedQueryLimits = { maxLength: 16_000, maxTerms: 400 } as const;

export interface QueryLimits {
  maxLength: number;
  maxTerms: number;
}

export interface Term {
  start: number;
  /** The term exactly as written. */
  raw: string;
  /** Set for `key:value` and `-key:value` terms. */
  qualifier?: { key: QueryKey; negated: boolean };
  /** The value (qualifier) or the word/phrase (free text), unescaped and trimmed. */
  value: string;
}

/** The same set as `String.prototype.trim` removes. */
const whitespace = /\s/;
const qualifierHead = /^(-?)([A-Za-z][A-Za-z_]*):/;

/**
 * The terms of `input`, in order. Throws `QueryParseError` for input past `limits`, and for
 * quotes or a `-` that no term can hold.
 */
export function lex(
  input: string,
  limits: QueryLimits = queryLimits,
  /** Take unquoted operators and parentheses as words (queries stored before they were refused). */
  operatorsAsText = false,
): Term[] {
  if (input.length > limits.maxLength) {
    throw new QueryParseError(
      "input_too_long",
      `A query can be at most ${limits.maxLength} characters long`,
      limits.maxLength,
      "",
    );
  }
  const terms: Term[] = [];
  const n = input.length;
  let i = 0;
  const wordEnd = (from: number): number => {
    let j = from;
    while (j < n && !whitespace.test(input.charAt(j))) j++;
    return j;
  };
  /** Reads a quoted string whose opening quote is at `open`; `start` is the term's start. */
  const readQuoted = (open: number, start: number): { value: string; end: number } => {
    let value = "";
    let j = open + 1;
    while (j < n) {
      const c = input.charAt(j);
      if (c === '"') {
        const end = j + 1;
        if (end < n && !whitespace.test(input.charAt(end))) {
          throw new QueryParseError(
            "misplaced_quote",
            "Expected a space after the closing quote",
            start,
            input.slice(start, wordEnd(end)),
          );
        }
        return { value, end };
      }
      if (c === "\\" && j + 1 < n) {
        const next = input.charAt(j + 1);
        if (next === '"' || next === "\\") {
          value += next;
          j += 2;
          continue;
        }
      }
      value += c;
      j++;
    }
    throw new QueryParseError(
      "unterminated_quote",
      'Unterminated quote: add the closing "',
      start,
      input.slice(start),
    );
  };

  while (true) {
    while (i < n && whitespace.test(input.charAt(i))) i++;
    if (i >= n) break;
    const start = i;
    let term: Term;
    if (input.charAt(i) === '"') {
      const { value, end } = readQuoted(i, start);
      term = { start, raw: input.slice(start, end), value: value.trim() };
      i = end;
    } else {
      let j = i;
      while (j < n && !whitespace.test(input.charAt(j)) && input.charAt(j) !== '"') j++;
      const head = input.slice(i, j);
      const match = qualifierHead.exec(head);
      if (match) {
        const [prefix, minus, name] = match as unknown as [string, string, string];
        const key = findQueryKey(name);
        if (key === undefined) {
          const end = j < n && input.charAt(j) === '"' ? safeQuotedEnd(input, j) : wordEnd(j);
          throw new QueryParseError(
            "unknown_key",
            `Unknown key "${name}". Known keys: ${queryKeys.map((k) => k.key).join(", ")}. ` +
              "To search for this text, put it in double quotes.",
            start,
            input.slice(start, end),
          );
        }
        let value: string;
        if (j < n && input.charAt(j) === '"') {
          if (head.length !== prefix.length) {
            throw new QueryParseError(
              "misplaced_quote",
              'Quote the whole value, e.g. key:"some value"',
              start,
              input.slice(start, wordEnd(j)),
            );
          }
          const quoted = readQuoted(j, start);
          value = quoted.value;
          i = quoted.end;
        } else {
          value = head.slice(prefix.length);
          i = j;
          if (!operatorsAsText && /[()]/.test(value)) {
            throw new QueryParseError(
              "unsupported_syntax",
              `Parentheses are not supported; if the value holds one, quote it: ${prefix}"${value}"`,
              start,
              head,
            );
          }
        }
        term = {
          start,
          raw: input.slice(start, i),
          qualifier: { key, negated: minus === "-" },
          value: value.trim(),
        };
      } else {
        if (!operatorsAsText) refuseUnsupported(head, start);
        if (j < n && input.charAt(j) === '"') {
          throw new QueryParseError(
            "misplaced_quote",
            "A quote can only open a phrase or a value: put the whole phrase in double quotes",
            start,
            input.slice(start, wordEnd(j)),
          );
        }
        if (head.startsWith("-")) {
          throw new QueryParseError(
            "bad_negation",
            'Only qualifiers can be negated (e.g. -type:repo.create); to search for text starting with "-", put it in double quotes',
            start,
            head,
          );
        }
        term = { start, raw: head, value: head };
        i = j;
      }
    }
    if (terms.length >= limits.maxTerms) {
      throw new QueryParseError(
        "too_many_terms",
        `A query can have at most ${limits.maxTerms} terms`,
        term.start,
        term.raw,
      );
    }
    terms.push(term);
  }
  return terms;
}

/**
 * Boolean operators that people bring from other search boxes. The language has none (terms all
 * match; a key repeated is an alternative), and taking them as words to search for answered
 * `(type:repo.create OR` with nothing and no hint; so unquoted, they are refused.
 */
const operatorAdvice: Record<string, string> = {
  OR: "OR is not supported: repeat a key for alternatives (type:repo.create type:repo.delete)",
  "||": "OR is not supported: repeat a key for alternatives (type:repo.create type:repo.delete)",
  "|": "OR is not supported: repeat a key for alternatives (type:repo.create type:repo.delete)",
  AND: "AND is not needed: every term must match already",
  "&&": "AND is not needed: every term must match already",
  "&": "AND is not needed: every term must match already",
  NOT: "NOT is not supported: put a minus before a key to exclude (-type:org.sso_login)",
  "!": "NOT is not supported: put a minus before a key to exclude (-type:org.sso_login)",
};

/** Whether the lexer refuses `word` unquoted as an operator (the printer quotes it). */
export function isQueryOperator(word: string): boolean {
  return Object.hasOwn(operatorAdvice, word);
}

const quoteHint = "; to search for this text, put it in double quotes";

/** Throws `unsupported_syntax` for an unquoted operator or a word with a parenthesis. */
function refuseUnsupported(word: string, start: number): void {
  const advice = isQueryOperator(word) ? operatorAdvice[word] : undefined;
  if (advice !== undefined) {
    throw new QueryParseError("unsupported_syntax", `${advice}${quoteHint}`, start, word);
  }
  if (/[()]/.test(word)) {
    throw new QueryParseError(
      "unsupported_syntax",
      `Parentheses are not supported: terms all match, and a key repeated is an alternative${quoteHint}`,
      start,
      word,
    );
  }
}

/** End of a quoted section starting at `open`, or of the input if it is unterminated. */
function safeQuotedEnd(input: string, open: number): number {
  for (let j = open + 1; j < input.length; j++) {
    const c = input.charAt(j);
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  return input.length;
}
