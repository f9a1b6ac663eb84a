import type { AuditExport, Notification } from "@auditlog/events";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { loadSchemas, type SchemaPick } from "../../api/client.ts";
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
    // Each message is checked against its schema, whose chunk loads with the first message (it
    // is not on the first screen's path); messages keep their order, waiting on the same load.
    let open = true;
    const on = <T,>(type: string, pick: SchemaPick<T>, apply: (message: T) => void) => {
      source.addEventListener(type, (event) => {
        const data = parseJson((event as MessageEvent).data);
        loadSchemas().then(
          (schemas) => {
            if (!open) return;
            let message: T;
            try {
              message = pick(schemas).parse(data);
            } catch {
              return;
            }
            apply(message);
          },
          // The schemas could not be downloaded: the lists' polling catches up instead.
          () => {},
        );
      });
    };
    on(
      "notification",
      (schemas) => schemas.notificationSchema,
      (notification: Notification) => {
        queryClient.setQueryData<Notification[]>(notificationKeys.all, (list) =>
          addNotification(list, notification),
        );
        // A list read still on its way (asked for on connecting, or by `ready`) may have been
        // read before this notification was stored; landing after the push, it would replace
        // the list without it, and nothing would fetch again while connected. Refetching
        // cancels that read; the new one starts after the push, so after the row was stored.
        void queryClient.invalidateQueries({ queryKey: notificationKeys.all });
        void queryClient.invalidateQueries({ queryKey: exportKeys.list(notification.orgSlug) });
      },
    );
    on(
      "export.progress",
      (schemas) => schemas.exportProgressSchema,
      (progress) => {
        const key = exportKeys.list(progress.orgSlug);
        const known = queryClient
          .getQueryData<AuditExport[]>(key)
          ?.some((item) => item.id === progress.exportId);
        if (known && progress.status !== "ready" && progress.status !== "failed") {
          queryClient.setQueryData<AuditExport[]>(key, (list) =>
            applyExportProgress(list, progress),
          );
        } else {
          // A new export, or a finished one: its size, expiry and final counts come from the API.
          void queryClient.invalidateQueries({ queryKey: key });
        }
      },
    );
    on(
      "entries.stored",
      (schemas) => schemas.entriesStoredEventSchema,
      (stored) => recordStoredEntries(queryClient, stored),
    );
    return () => {
      open = false;
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
