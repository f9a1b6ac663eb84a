import {
  emptyQuery,
  type ParsedQuery,
  type ParseQueryOptions,
  parseQuery,
  type QueryParseError,
} from "../../src/query/index.ts";

/** Tests don't depend on the catalog, which is being filled in concurrently. */
export const anyType: ParseQueryOptions = { isKnownType: () => true };

export function parse(input: string, options: ParseQueryOptions = anyType): ParsedQuery {
  const result = parseQuery(input, options);
  if (!result.ok) throw new Error(`unexpected parse error: ${JSON.stringify(result.error)}`);
  return result.query;
}

export function parseError(input: string, options: ParseQueryOptions = anyType): QueryParseError {
  const result = parseQuery(input, options);
  if (result.ok) throw new Error(`expected an error for ${JSON.stringify(input)}`);
  return result.error;
}

export function query(fields: Partial<ParsedQuery>): ParsedQuery {
  return { ...emptyQuery(), ...fields };
}
