import { type ComponentProps, lazy, Suspense } from "react";
import type * as Dialog from "./export-dialog.tsx";
import type * as Panel from "./exports-panel.tsx";

/**
 * The export dialog and the exports panel, each in a chunk loaded when first opened: the log's
 * first screen does not need them. Same props as the real ones; nothing is shown while the chunk
 * loads. `preloadExports` starts both downloads when the user shows the intent (pointer over, or
 * focus on, the buttons that open them).
 */
const loadDialog = () => import("./export-dialog.tsx");
const loadPanel = () => import("./exports-panel.tsx");

const LazyDialog = lazy(() => loadDialog().then((module) => ({ default: module.ExportDialog })));
const LazyPanel = lazy(() => loadPanel().then((module) => ({ default: module.ExportsPanel })));

export function ExportDialog(props: ComponentProps<typeof Dialog.ExportDialog>) {
  return (
    <Suspense fallback={null}>
      <LazyDialog {...props} />
    </Suspense>
  );
}

export function ExportsPanel(props: ComponentProps<typeof Panel.ExportsPanel>) {
  return (
    <Suspense fallback={null}>
      <LazyPanel {...props} />
    </Suspense>
  );
}

export function preloadExports(): void {
  void loadDialog();
  void loadPanel();
}
