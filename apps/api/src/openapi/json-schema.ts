/**
 * How zod schemas become JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) through
 * hono-openapi's `resolver`, which hands these options to zod's own `toJSONSchema`.
 */
type OverrideContext = {
  zodSchema: { _zod: { def: { type: string } } };
  jsonSchema: Record<string, unknown>;
};

/**
 * Two zod types JSON Schema has no word for: a Date (answered as its ISO string by `c.json`) and
 * `undefined`, which the API uses for "this property is never present" (an entry's commitment
 * holds `salt` or `personal`, never both): `not: {}` says exactly that.
 */
function override(ctx: OverrideContext) {
  const type = ctx.zodSchema._zod.def.type;
  if (type === "date") {
    ctx.jsonSchema.type = "string";
    ctx.jsonSchema.format = "date-time";
  } else if (type === "undefined") {
    ctx.jsonSchema.not = {};
  }
}

/** What the API answers: defaults applied, transforms' results. */
export const outputOptions = {
  options: { io: "output", unrepresentable: "any", override },
} as const;
/** What a client sends: defaulted fields optional. */
export const inputOptions = { options: { io: "input", unrepresentable: "any", override } } as const;
