import { type ComponentProps, lazy, Suspense } from "react";
import type * as Page from "./org-settings-page.tsx";

/** The settings page in a chunk of its own: the log's first screen does not need it. */
const LazyPage = lazy(() =>
  import("./org-settings-page.tsx").then((module) => ({ default: module.OrgSettingsPage })),
);

export function OrgSettingsPage(props: ComponentProps<typeof Page.OrgSettingsPage>) {
  return (
    <Suspense
      fallback={
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      }
    >
      <LazyPage {...props} />
    </Suspense>
  );
}
