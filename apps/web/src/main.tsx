// The entry: tiny on purpose. It starts the first screen's API requests at once, then loads the
// console (boot.tsx, whose chunks index.html already preloads, see vite-plugins.ts). The styles
// are linked from index.html, so the page is styled before any script has run; the theme is
// set here, before the console renders, so a dark page never flashes light.
import { startEarlyRequests } from "./api/early-requests.ts";
import { startThemeSync } from "./lib/theme.ts";
import { warmIntl } from "./lib/warm-intl.ts";
import "./styles.css";

// The requests first: the theme reads localStorage, whose first use in a session can block on
// the browser for a while, and nothing about the requests depends on it.
startEarlyRequests(window.location);
startThemeSync();
void import("./boot.tsx");
// While the console's chunks download: the first render formats times and country names.
warmIntl();
