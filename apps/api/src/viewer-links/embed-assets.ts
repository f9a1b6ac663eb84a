/**
 * The embeddable viewer's script and styles (issue 20), served by the API from its own origin
 * (the page's policy allows scripts and styles of 'self' only, nothing inline). A small separate
 * entry rather than the console's React bundle: the page shows one table, loads in a frame of
 * someone else's product, and must not carry the console's sign-in, routing or admin screens.
 *
 * The token travels in the address's fragment (`/embed/viewer/vwl_…#avl_…`), which browsers
 * never send to a server nor put in a Referer: it reaches the API only as
 * `Authorization: Bearer` on the viewer's own requests.
 */
export const viewerScript = String.raw`
const root = document.getElementById("viewer");
const token = decodeURIComponent(location.hash.slice(1));
const state = { q: "", cursor: null, rows: 0 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function call(path) {
  const response = await fetch(path, { headers: { authorization: "Bearer " + token } });
  if (response.status === 401) throw new Error("This viewer link has expired or was revoked.");
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.error?.message ?? "The log could not be read (" + response.status + ").");
  }
  return response;
}

function showError(message) {
  root.replaceChildren(el("p", { role: "alert", class: "error", text: message }));
}

function formatTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const tbody = el("tbody");
const more = el("button", { type: "button", text: "Load more" });
const status = el("p", { role: "status", class: "status" });

function addRows(entries) {
  for (const entry of entries) {
    tbody.append(
      el(
        "tr",
        { "data-entry-id": entry.id },
        el("td", {}, el("time", { datetime: entry.occurredAt, text: formatTime(entry.occurredAt) })),
        el("td", { text: entry.actor.name }),
        el("td", {}, el("code", { text: entry.type })),
        el("td", { text: entry.description }),
        el("td", { text: entry.target ? (entry.target.name ?? entry.target.id) : "" }),
        el("td", { text: entry.location?.formatted ?? "" }),
      ),
    );
  }
  state.rows += entries.length;
}

async function loadPage(reset) {
  if (reset) {
    tbody.replaceChildren();
    state.cursor = null;
    state.rows = 0;
  }
  const params = new URLSearchParams({ limit: "50" });
  if (state.q.trim()) params.set("q", state.q);
  if (state.cursor) params.set("cursor", state.cursor);
  try {
    const page = await (await call("/v1/viewer/entries?" + params)).json();
    addRows(page.entries);
    state.cursor = page.nextCursor;
    more.hidden = !page.nextCursor;
    status.textContent = state.rows === 0 ? "No entries match." : state.rows + " entries shown";
  } catch (error) {
    showError(error.message);
  }
}

async function exportAll() {
  const params = new URLSearchParams();
  if (state.q.trim()) params.set("q", state.q);
  try {
    const blob = await (await call("/v1/viewer/export?" + params)).blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: "audit-log.ndjson" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    showError(error.message);
  }
}

async function start() {
  if (!/^avl_[A-Za-z0-9_-]{43}$/.test(token)) {
    showError("This page needs a viewer link's token after # in its address.");
    return;
  }
  let scope;
  try {
    scope = await (await call("/v1/viewer")).json();
  } catch (error) {
    showError(error.message);
    return;
  }
  const search = el("input", {
    type: "search",
    name: "q",
    "aria-label": "Filter within this view",
    placeholder: "Filter, e.g. author:alice -type:repo.delete",
  });
  const form = el(
    "form",
    { role: "search" },
    search,
    el("button", { type: "submit", text: "Search" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = search.value;
    void loadPage(true);
  });
  const exportButton = el("button", { type: "button", text: "Export (NDJSON)" });
  exportButton.addEventListener("click", () => void exportAll());
  more.addEventListener("click", () => void loadPage(false));
  const head = el("tr");
  for (const name of ["Time", "Actor", "Action", "Description", "Target", "Location"]) {
    head.append(el("th", { scope: "col", text: name }));
  }
  root.replaceChildren(
    el(
      "header",
      {},
      el("h1", { text: scope.organization.name + " audit log: " + scope.name }),
      el("p", { class: "scope" }, "Showing entries matching ", el("code", { text: scope.q })),
    ),
    el("div", { class: "tools" }, form, exportButton),
    el("table", {}, el("caption", { text: "Audit log entries" }), el("thead", {}, head), tbody),
    status,
    more,
  );
  await loadPage(true);
}

void start();
`;

export const viewerStyles = `
:root { color-scheme: light dark; font: 14px/1.4 system-ui, sans-serif; }
body { margin: 0; padding: 12px; }
h1 { font-size: 1.1rem; margin: 0 0 4px; }
.scope { margin: 0 0 8px; }
.tools { display: flex; gap: 8px; margin-bottom: 8px; flex-wrap: wrap; }
.tools form { display: flex; gap: 4px; flex: 1; }
.tools input { flex: 1; min-width: 12rem; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; position: absolute; left: -10000px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #8884; vertical-align: top; }
.error { color: #b00020; }
`;
