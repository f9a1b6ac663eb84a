import type { z } from "zod";

/**
 * A yes-or-"ask zod" check compiled from a zod schema, for the ingest hot path. Walking the zod
 * schema per event allocated a result object per field, copied every object and cost about a
 * quarter of the API's CPU per event. This reads the same schema once (its definitions, and
 * zod's own check functions for lengths, formats, patterns and refinements) into plain closures
 * that allocate nothing for a well-formed value.
 *
 * `true` means: zod accepts this value AND its output equals the value (no default filled in, no
 * key stripped, no transform), so the value can be used as zod's output. `false` means only "not
 * sure": the caller runs zod, which stays the one source of truth and of every error message. A
 * construct this compiler does not know compiles to `false`, so a schema change can cost speed,
 * never correctness (packages/events/src/fast-check.test.ts checks both against each other).
 */
export type FastCheck = (value: unknown) => boolean;

interface Compiled {
  check: FastCheck;
  /** `false` from `check` means zod rejects the value too (needed to try union options in order). */
  exact: boolean;
}

// zod's internals, as far as this compiler reads them.
interface ZodCheckInternals {
  _zod: {
    def: { when?: (payload: { value: unknown; issues: unknown[] }) => boolean };
    check: (payload: { value: unknown; issues: unknown[] }) => unknown;
  };
}
interface Internals {
  _zod: {
    def: {
      type: string;
      checks?: ZodCheckInternals[];
      coerce?: boolean;
      innerType?: Internals;
      shape?: Record<string, Internals>;
      catchall?: Internals;
      element?: Internals;
      options?: Internals[];
      discriminator?: string;
      keyType?: Internals;
      valueType?: Internals;
      mode?: string;
      inclusive?: boolean;
    };
    traits: Set<string>;
    values?: Set<unknown>;
    propValues?: Record<string, Set<unknown>>;
    optin?: string;
  };
}

const unsure: Compiled = { check: () => false, exact: false };

export function compileFastCheck(schema: z.ZodType): FastCheck {
  return compile(schema as unknown as Internals).check;
}

function compile(schema: Internals): Compiled {
  const def = schema._zod.def;
  const typed = compileType(schema);
  if (typed === unsure) return unsure;
  // zod runs a schema that is itself a check (z.ipv4(), z.email(), z.int()…) before its checks.
  const checks = [
    ...(schema._zod.traits.has("$ZodCheck") ? [schema as unknown as ZodCheckInternals] : []),
    ...(def.checks ?? []),
  ];
  if (checks.length === 0) return typed;
  return { exact: typed.exact, check: withChecks(typed.check, checks, def.type === "string") };
}

interface CheckDef {
  check?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  length?: number;
  pattern?: RegExp;
  when?: unknown;
}

/**
 * String formats whose zod check is its pattern alone (zod's `$ZodCheckStringFormat`); others
 * (ipv6, url…) run code of their own, called as is. The property tests compare both.
 */
const patternOnlyFormats = new Set(["regex", "datetime", "date", "time", "ipv4", "email", "uuid"]);

/**
 * The type check, then each check as zod runs it — as generated code, so that the common string
 * checks (lengths, patterns) are plain comparisons and each compiled schema has its own call
 * sites; any other check is zod's own function, run on a payload as zod runs it.
 */
function withChecks(typeCheck: FastCheck, checks: ZodCheckInternals[], isString: boolean) {
  const lines: string[] = [];
  const generic: ((value: unknown) => boolean)[] = [];
  const patterns: RegExp[] = [];
  for (const c of checks) {
    const d = c._zod.def as CheckDef;
    if (isString && d.check === "min_length" && typeof d.minimum === "number") {
      lines.push(`if (v.length < ${d.minimum}) return false;`);
    } else if (isString && d.check === "max_length" && typeof d.maximum === "number") {
      lines.push(`if (v.length > ${d.maximum}) return false;`);
    } else if (isString && d.check === "length_equals" && typeof d.length === "number") {
      lines.push(`if (v.length !== ${d.length}) return false;`);
    } else if (
      isString &&
      d.check === "string_format" &&
      d.when === undefined &&
      d.pattern instanceof RegExp &&
      patternOnlyFormats.has(d.format ?? "")
    ) {
      lines.push(
        `p${patterns.length}.lastIndex = 0; if (!p${patterns.length}.test(v)) return false;`,
      );
      patterns.push(d.pattern);
    } else {
      lines.push(`if (!g${generic.length}(v)) return false;`);
      generic.push(runZodCheck(c));
    }
  }
  const source = `
    ${patterns.map((_, i) => `const p${i} = patterns[${i}];`).join("\n")}
    ${generic.map((_, i) => `const g${i} = generic[${i}];`).join("\n")}
    return function check(v) {
      if (!typeCheck(v)) return false;
      ${lines.join("\n")}
      return true;
    };`;
  return new Function("typeCheck", "patterns", "generic", source)(
    typeCheck,
    patterns,
    generic,
  ) as FastCheck;
}

/** One zod check on `value`, as zod's runChecks runs it: true when it adds no issue. */
function runZodCheck(c: ZodCheckInternals): (value: unknown) => boolean {
  const payload: { value: unknown; issues: unknown[] } = { value: undefined, issues: [] };
  return (value) => {
    payload.value = value;
    let ok: boolean;
    try {
      // As zod does: a conditional check (lengths: "when the value has one") may be skipped.
      const when = c._zod.def.when;
      if (when !== undefined && !when(payload)) return true;
      const result = c._zod.check(payload);
      if (result instanceof Promise) {
        // An async refinement: zod's sync parse throws on it; never the fast path.
        result.catch(() => {});
        ok = false;
      } else {
        ok = payload.issues.length === 0 && payload.value === value;
      }
    } catch {
      ok = false;
    }
    if (payload.issues.length > 0) payload.issues.length = 0;
    payload.value = undefined;
    return ok;
  };
}

function compileType(schema: Internals): Compiled {
  const def = schema._zod.def;
  if (def.coerce) return unsure;
  switch (def.type) {
    case "string":
      return { exact: true, check: (v) => typeof v === "string" };
    case "number":
      return {
        exact: true,
        check: (v) => typeof v === "number" && Number.isFinite(v),
      };
    case "boolean":
      return { exact: true, check: (v) => typeof v === "boolean" };
    case "unknown":
    case "any":
      return { exact: true, check: () => true };
    case "never":
      return { exact: true, check: () => false };
    case "enum":
    case "literal": {
      const values = schema._zod.values;
      if (!values) return unsure;
      return { exact: true, check: (v) => values.has(v) };
    }
    case "nullable": {
      const inner = compileInner(def.innerType);
      return { exact: inner.exact, check: (v) => v === null || inner.check(v) };
    }
    case "optional":
    case "default":
    case "prefault": {
      // An absent value is zod's to fill in (a default) or to leave out: ask zod. JSON never
      // holds `undefined`, so this costs nothing on the hot path.
      const inner = compileInner(def.innerType);
      return { exact: false, check: (v) => v !== undefined && inner.check(v) };
    }
    case "array":
      return compileArray(def.element);
    case "object":
      return compileObject(schema);
    case "record":
      return compileRecord(schema);
    case "union":
      return def.discriminator === undefined
        ? compileUnion(def.options ?? [], def.inclusive)
        : compileDiscriminated(def.options ?? [], def.discriminator);
    default:
      // Pipes, transforms, lazy, tuples, dates…: zod's alone.
      return unsure;
  }
}

function compileInner(schema: Internals | undefined): Compiled {
  return schema ? compile(schema) : unsure;
}

function compileArray(element: Internals | undefined): Compiled {
  const item = compileInner(element);
  if (item === unsure) return unsure;
  const check = item.check;
  return {
    exact: item.exact,
    check(v) {
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) {
        // A hole reads as undefined, which every item check answers "ask zod" or no.
        if (!check(v[i])) return false;
      }
      return true;
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function compileObject(schema: Internals): Compiled {
  const def = schema._zod.def;
  const shape = def.shape ?? {};
  const keys = Object.keys(shape);
  // A key Object.prototype also has would read as present on every object: zod's alone.
  if (keys.some((key) => key in Object.prototype || key === "__proto__")) return unsure;
  const fields = keys.map((key) => {
    const field = shape[key] as Internals;
    const fieldDef = field._zod.def;
    // `.optional()`: the generated code handles absence, and checks a present value directly.
    if (fieldDef.type === "optional" && fieldDef.innerType && !fieldDef.checks?.length) {
      return { key, optional: true, ...compile(fieldDef.innerType) };
    }
    return { key, optional: field._zod.optin === "optional", ...compile(field) };
  });
  // What zod does with a key the shape lacks: reject (strict), keep (loose), check it against the
  // catchall, or strip it (plain z.object: the output then differs from the input, so ask zod).
  const catchallType = def.catchall?._zod.def.type;
  const rest: FastCheck | null =
    catchallType === undefined || catchallType === "never"
      ? null
      : catchallType === "unknown" || catchallType === "any"
        ? () => true
        : compile(def.catchall as Internals).check;
  const keySet = new Set(keys);
  const exact =
    fields.every((f) => f.exact && !f.optional) &&
    catchallType !== undefined &&
    rest !== unsure.check;
  return { exact, check: objectCheck(fields, keySet, rest) };
}

/**
 * The object's check as code with the shape's keys written in (`v["actor"]`), as zod's own JIT
 * does: a loop over the fields reads each through a generic keyed lookup, which cost more than
 * all the field checks together.
 */
function objectCheck(
  fields: { key: string; optional: boolean; check: FastCheck }[],
  keySet: Set<string>,
  rest: FastCheck | null,
): FastCheck {
  const lines = fields.map((field, i) => {
    const key = JSON.stringify(field.key);
    // Absent and optional is fine; present as `undefined` is zod's call.
    const absent = field.optional ? `if (${key} in v) return false;` : "return false;";
    return `x = v[${key}]; if (x !== undefined) { if (!c${i}(x)) return false; n++; } else { ${absent} }`;
  });
  const source = `
    ${fields.map((_, i) => `const c${i} = checks[${i}];`).join("\n")}
    return function check(v) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      let n = 0;
      let x;
      ${lines.join("\n")}
      let total = 0;
      for (const k in v) total++;
      if (total === n) return true;
      if (rest === null) return false;
      for (const k in v) {
        if (keySet.has(k)) continue;
        if (k === "__proto__" || !rest(v[k])) return false;
      }
      return true;
    };`;
  return new Function("checks", "keySet", "rest", source)(
    fields.map((f) => f.check),
    keySet,
    rest,
  ) as FastCheck;
}

function compileRecord(schema: Internals): Compiled {
  const def = schema._zod.def;
  const keyType = def.keyType;
  // Only records keyed by any string (zod copies them key by key, unchanged).
  if (!keyType || keyType._zod.values || keyType._zod.def.type !== "string" || def.mode) {
    return unsure;
  }
  const key = compile(keyType);
  const value = compileInner(def.valueType);
  if (key === unsure || value === unsure) return unsure;
  return {
    exact: key.exact && value.exact,
    check(v) {
      if (!isObject(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
      for (const k of Object.keys(v)) {
        if (k === "__proto__" || !key.check(k) || !value.check(v[k])) return false;
      }
      return true;
    },
  };
}

function compileUnion(options: Internals[], inclusive: boolean | undefined): Compiled {
  if (inclusive === false) return unsure;
  const compiled = options.map(compile);
  const exact = compiled.every((o) => o.exact);
  // zod takes the first option that passes: a later option may answer only when every earlier
  // one's `false` was exact (zod rejects the value there too).
  const checks = compiled.map((o) => o.check);
  const stops = compiled.map((o) => !o.exact);
  const inOrder: FastCheck = (v) => {
    for (let i = 0; i < checks.length; i++) {
      if ((checks[i] as FastCheck)(v)) return true;
      if (stops[i]) return false;
    }
    return false;
  };
  return { exact, check: inOrder };
}

/**
 * `z.discriminatedUnion`: the option is picked by the discriminator's value, as zod picks it,
 * then checked alone. A value no option claims is zod's to refuse (or to try as a plain union).
 */
function compileDiscriminated(options: Internals[], discriminator: string): Compiled {
  const byValue = new Map<unknown, FastCheck>();
  for (const option of options) {
    const values = option._zod.propValues?.[discriminator];
    if (!values) return unsure;
    const check = compile(option).check;
    for (const value of values) {
      // Two options claiming one value: zod would try both; leave it to zod.
      byValue.set(value, byValue.has(value) ? unsure.check : check);
    }
  }
  return {
    exact: false,
    check(v) {
      if (!isObject(v)) return false;
      const check = byValue.get(v[discriminator]);
      return check ? check(v) : false;
    },
  };
}
