// The entry: tiny on purpose. It starts the first screen's API requests at once, then loads the
// console (boot.tsx, whose chunks index.html already preloads, see vite-plugins.ts). The styles
// are linked from index.html, so the page is styled before any script has run.
import { startEarlyRequests } from "./api/early-requests.ts";
import "./styles.css";

startEarlyRequests(window.location);
void import("./boot.tsx");
