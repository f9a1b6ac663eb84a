import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { precompress, preloadBoot } from "./vite-plugins.ts";

/** Where `vite` (the dev server) sends API calls; the API's own address by default. */
const apiTarget = process.env.AUDITLOG_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react(), preloadBoot(), precompress()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/v1": { target: apiTarget },
      "/api": { target: apiTarget },
      "/healthz": { target: apiTarget },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No source maps: the API serves dist/ as it is, and a map would publish the console's source.
    sourcemap: false,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            // The libraries change less often than the console: their own chunk stays cached
            // across the console's releases.
            {
              name: "vendor",
              test: /[\\/]node_modules[\\/](react|react-dom|scheduler|@tanstack)[\\/]/,
            },
            // zod with strict-csp.ts, which configures it: chunks run in import order, so the
            // configuration must be in zod's own chunk to run before any other chunk (that of
            // @auditlog/events) builds a schema. Elsewhere it would run too late, and zod's eval
            // probe would break the Content-Security-Policy (console.e2e.test.ts checks).
            {
              name: "zod",
              test: /[\\/]node_modules[\\/]zod[\\/]|[\\/]src[\\/]strict-csp\.ts$/,
            },
          ],
        },
      },
    },
  },
});
