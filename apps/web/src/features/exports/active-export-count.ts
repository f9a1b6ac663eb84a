import { useQuery } from "@tanstack/react-query";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { useLiveStatus } from "../notifications/live-updates.tsx";
import { exportListOptions, isActiveExport } from "./export-queries.ts";

/**
 * Active exports of the organisation, for the header button's badge. Apart from the panel
 * (exports-panel.tsx), which loads only when opened.
 */
export function useActiveExportCount(orgSlug: string): number {
  const live = useLiveStatus();
  // Asked for once the first screen is painted (after-first-paint.ts).
  const painted = useAfterFirstPaint();
  const query = useQuery({
    ...exportListOptions(orgSlug, { live }),
    retry: false,
    enabled: painted,
  });
  return query.data?.filter(isActiveExport).length ?? 0;
}
