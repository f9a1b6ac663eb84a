// No zod here: the first screen builds no schema. The modules that do (api/schemas.ts, loaded
// on first use, and the trust store) import strict-csp.ts first themselves.
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { primeFirstScreen } from "./api/first-screen.ts";
import { App } from "./app.tsx";
import { createQueryClient } from "./query-client.ts";

const queryClient = createQueryClient();
// Started before the document has finished parsing, so the answers are in the cache (or on
// their way) by the first render.
const primed = primeFirstScreen(queryClient, window.location);

function render() {
  const root = document.getElementById("root");
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}

const documentReady = new Promise<void>((resolve) => {
  // The entry script is async (vite-plugins.ts): the document may still be parsing.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => resolve(), { once: true });
  } else resolve();
});
void Promise.all([primed, documentReady]).then(render);
