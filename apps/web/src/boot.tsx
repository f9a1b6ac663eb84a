// First: before any module builds a zod schema.
import "./strict-csp.ts";
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { createQueryClient } from "./query-client.ts";

function render() {
  const root = document.getElementById("root");
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={createQueryClient()}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}

// The entry script is async (vite-plugins.ts): the document may still be parsing.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
else render();
