import { useQuery } from "@tanstack/react-query";
import { useLiveStatus } from "../notifications/live-updates.tsx";
import { exportListOptions, isActiveExport } from "./export-queries.ts";

/**
 * Active exports of the organisation, for the header button's badge. Apart from the panel
 * (exports-panel.tsx), which loads only when opened.
 */
export function useActiveExportCount(orgSlug: string): number {
  const live = useLiveStatus();
  const query = useQuery({ ...exportListOptions(orgSlug, { live }), retry: false });
  return query.data?.filter(isActiveExport).length ?? 0;
}
