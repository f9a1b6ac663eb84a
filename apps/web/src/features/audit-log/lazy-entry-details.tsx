import { type ComponentProps, lazy, Suspense } from "react";
import type * as Details from "./entry-details.tsx";

/**
 * The entry's details drawer (with its inclusion check) in a chunk loaded when an entry is first
 * opened: the log's first screen does not need it. Same props as the real one; nothing is shown
 * while the chunk loads.
 */
const loadDetails = () => import("./entry-details.tsx");

const LazyDetails = lazy(() => loadDetails().then((module) => ({ default: module.EntryDetails })));

export function EntryDetails(props: ComponentProps<typeof Details.EntryDetails>) {
  return (
    <Suspense fallback={null}>
      <LazyDetails {...props} />
    </Suspense>
  );
}

/** Starts the drawer's download, when an entry is about to be opened. */
export function preloadEntryDetails(): void {
  void loadDetails();
}
