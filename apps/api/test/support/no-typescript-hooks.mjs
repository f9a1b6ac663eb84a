// Loaded with `node --import` in front of a compiled entry (test/production-build.test.ts): any
// attempt to load TypeScript source or a TypeScript tool fails the process, which proves that the
// production build runs on plain node. Applies to the main thread (worker threads start their own
// compiled files and are checked by what they import from there).
import { register } from "node:module";

const hooks = `
const refused = /(^|\\/)(tsx|typescript|esbuild|ts-node)(\\/|$)/;
export async function resolve(specifier, context, next) {
  if (refused.test(specifier)) {
    throw new Error("production build imports " + specifier + " (from " + context.parentURL + ")");
  }
  const resolved = await next(specifier, context);
  if (/\\.[mc]?tsx?$/.test(new URL(resolved.url).pathname)) {
    throw new Error("production build loads TypeScript source " + resolved.url);
  }
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
