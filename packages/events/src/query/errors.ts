// Its own module: the lexer and the value checks reject input too, and must not depend on the
// parser that uses them.

export type QueryParseErrorKind =
  | "input_too_long"
  | "too_many_terms"
  | "unknown_key"
  | "empty_value"
  | "unterminated_quote"
  | "misplaced_quote"
  | "bad_negation"
  | "bad_date"
  | "bad_operator"
  | "unknown_category"
  | "bad_country"
  | "bad_ip_prefix"
  | "unknown_type"
  | "negated_created"
  | "unsupported_syntax";

export class QueryParseError extends Error {
  override readonly name = "QueryParseError";
  constructor(
    readonly kind: QueryParseErrorKind,
    message: string,
    /** 0-based offset of the offending term in the input. */
    readonly position: number,
    /** The offending term exactly as written (`input.slice(position, position + token.length)`). */
    readonly token: string,
  ) {
    super(message);
  }

  toJSON(): { kind: QueryParseErrorKind; message: string; position: number; token: string } {
    return { kind: this.kind, message: this.message, position: this.position, token: this.token };
  }
}
