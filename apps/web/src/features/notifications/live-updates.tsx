import {
  type AuditExport,
  entriesStoredEventSchema,
  exportProgressSchema,
  type Notification,
  notificationSchema,
} from "@auditlog/events";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { applyExportProgress, exportKeys } from "../exports/export-queries.ts";
import { recordStoredEntries } from "../live/new-entries.tsx";
import { addNotification, notificationKeys } from "./notification-queries.ts";

const LiveContext = createContext(false);

/** Whether the live stream is connected; lists poll while it is not. */
export function useLiveStatus(): boolean {
  return useContext(LiveContext);
}

export const streamPath = "/v1/notifications/stream";

/**
 * Subscribes to `GET /v1/notifications/stream` (Server-Sent Events) while someone is signed in:
 * `notification` events land in the notification list (the bell and toasts follow),
 * `export.progress` events move the progress bars of the exports list, `entries.stored` events
 * feed the log's "N new entries" pill. After a reconnection
 * both lists are refetched, since events may have been missed meanwhile.
 */
export function LiveUpdatesProvider({
  enabled,
  children,
}: {
  enabled: boolean;
  children: ReactNode;
}) {
  const queryClient = useQueryClient();
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    if (!enabled || typeof EventSource !== "function") return;
    const source = new EventSource(streamPath, { withCredentials: true });
    source.onopen = () => {
      setConnected(true);
      void queryClient.invalidateQueries({ queryKey: notificationKeys.all });
      void queryClient.invalidateQueries({
        predicate: (query) => query.queryKey[0] === "orgs" && query.queryKey[2] === "exports",
      });
    };
    source.onerror = () => setConnected(false);
    // Sent on connecting and after the server's own reconnection: a cue to refetch the list.
    source.addEventListener("ready", () => {
      void queryClient.invalidateQueries({ queryKey: notificationKeys.all });
    });
    source.addEventListener("notification", (event) => {
      const parsed = notificationSchema.safeParse(parseJson((event as MessageEvent).data));
      if (!parsed.success) return;
      const notification: Notification = parsed.data;
      queryClient.setQueryData<Notification[]>(notificationKeys.all, (list) =>
        addNotification(list, notification),
      );
      void queryClient.invalidateQueries({ queryKey: exportKeys.list(notification.orgSlug) });
    });
    source.addEventListener("export.progress", (event) => {
      const parsed = exportProgressSchema.safeParse(parseJson((event as MessageEvent).data));
      if (!parsed.success) return;
      const progress = parsed.data;
      const key = exportKeys.list(progress.orgSlug);
      const known = queryClient
        .getQueryData<AuditExport[]>(key)
        ?.some((item) => item.id === progress.exportId);
      if (known && progress.status !== "ready" && progress.status !== "failed") {
        queryClient.setQueryData<AuditExport[]>(key, (list) => applyExportProgress(list, progress));
      } else {
        // A new export, or a finished one: its size, expiry and final counts come from the API.
        void queryClient.invalidateQueries({ queryKey: key });
      }
    });
    source.addEventListener("entries.stored", (event) => {
      const parsed = entriesStoredEventSchema.safeParse(parseJson((event as MessageEvent).data));
      if (parsed.success) recordStoredEntries(queryClient, parsed.data);
    });
    return () => {
      source.close();
      setConnected(false);
    };
  }, [enabled, queryClient]);

  return <LiveContext.Provider value={connected}>{children}</LiveContext.Provider>;
}

function parseJson(text: unknown): unknown {
  try {
    return typeof text === "string" ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
