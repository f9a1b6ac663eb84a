// First: before any module builds a zod schema.
import "./strict-csp.ts";
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { startThemeSync } from "./lib/theme.ts";
import { createQueryClient } from "./query-client.ts";
import "./styles.css";

startThemeSync();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={createQueryClient()}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}
