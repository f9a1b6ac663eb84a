import { z } from "zod";

/**
 * The console runs under a Content-Security-Policy without 'unsafe-eval'. Zod probes for eval
 * with `new Function` when it builds an object schema; the probe's error is caught, but the
 * browser still reports a CSP violation. `jitless` skips the probe (and the compiled fast path
 * the policy forbids anyway). Imported first by main.tsx, before any schema is built.
 */
z.config({ jitless: true });
