import { useSyncExternalStore } from "react";

/**
 * Whether the console's first frame has been painted. Parts of the first screen that are not the
 * log itself (the chart, the facet rail, the integrity badge, saved views, the bell, the live
 * stream) render their loading state until then and start their requests after it, so the first
 * render, its commit and the first paint carry the log's rows and nothing else: on a slow CPU
 * each of those requests and subscriptions was part of one long task before the rows showed.
 * Their loading states have the size of what replaces them (no layout shift).
 *
 * Once true, true for the page's life: later screens render everything at once.
 */
let painted = false;
let scheduled = false;
const listeners = new Set<() => void>();

function markPainted() {
  painted = true;
  for (const listener of [...listeners]) listener();
}

function schedule() {
  if (scheduled || painted) return;
  scheduled = true;
  // A requestAnimationFrame callback runs just before the next frame is painted; a task queued
  // from it runs once that frame is out.
  if (typeof requestAnimationFrame === "function") {
    requestAnimationFrame(() => setTimeout(markPainted, 0));
  } else setTimeout(markPainted, 0);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  schedule();
  return () => listeners.delete(listener);
}

const snapshot = () => painted;

export function useAfterFirstPaint(): boolean {
  // The server snapshot is not used (no server rendering); false keeps the contract.
  return useSyncExternalStore(subscribe, snapshot, () => false);
}
