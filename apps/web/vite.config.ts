import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Where `vite` (the dev server) sends API calls; the API's own address by default. */
const apiTarget = process.env.AUDITLOG_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/v1": { target: apiTarget },
      "/api": { target: apiTarget },
      "/healthz": { target: apiTarget },
    },
  },
  // No source maps: the API serves dist/ as it is, and a map would publish the console's source.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
