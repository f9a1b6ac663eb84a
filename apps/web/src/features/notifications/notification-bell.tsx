import type { Notification } from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { Popover } from "../../components/popover.tsx";
import { useToasts } from "../../components/toasts.tsx";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { formatRelative } from "../../lib/format-time.ts";
import { navigate } from "../../lib/router.ts";
import { downloadUrl } from "../exports/export-queries.ts";
import { useLiveStatus } from "./live-updates.tsx";
import {
  notificationListOptions,
  useMarkAllNotificationsRead,
  useMarkNotificationRead,
} from "./notification-queries.ts";

function useNotifications() {
  const live = useLiveStatus();
  // Asked for once the first screen is painted (after-first-paint.ts); until then, "Loading…".
  const painted = useAfterFirstPaint();
  return useQuery({
    ...notificationListOptions({ pollMs: live ? false : 5000 }),
    retry: false,
    enabled: painted,
  });
}

/** The bell: unread count, the list, mark as read, download a ready export. */
export function NotificationBell() {
  const query = useNotifications();
  const markRead = useMarkNotificationRead();
  const markAllRead = useMarkAllNotificationsRead();
  const unread = query.data?.filter((item) => !item.readAt).length ?? 0;
  const now = Date.now();
  return (
    <Popover
      label={
        <>
          <BellIcon />
          {unread > 0 ? <span className="count-badge">{unread > 99 ? "99+" : unread}</span> : null}
        </>
      }
      ariaLabel={unread > 0 ? `Notifications, ${unread} unread` : "Notifications"}
      buttonClassName="icon-button header-icon"
      panelLabel="Notifications"
      align="end"
    >
      {() => (
        <div className="notifications">
          <div className="notifications-head">
            <h2>Notifications</h2>
            {unread > 0 ? (
              <button
                type="button"
                className="button button-small"
                data-autofocus
                onClick={() => markAllRead.mutate()}
              >
                Mark all as read
              </button>
            ) : null}
          </div>
          {query.isPending ? (
            <p className="muted">Loading…</p>
          ) : query.isError ? (
            <p className="muted" role="alert">
              {query.error instanceof ApiRequestError && query.error.status === 404
                ? "Notifications are not available on this server yet."
                : `Could not load notifications: ${errorMessage(query.error)}`}
            </p>
          ) : query.data.length === 0 ? (
            <p className="muted">Nothing yet. Finished exports and alerts are announced here.</p>
          ) : (
            <ul className="notification-list">
              {query.data.map((item) => (
                <li key={item.id} className={`notification${item.readAt ? "" : " is-unread"}`}>
                  <div className="notification-text">
                    <strong>{item.title}</strong>
                    <span>{item.body}</span>
                    <span className="small muted">
                      {item.orgSlug} · {formatRelative(item.createdAt, now)}
                    </span>
                  </div>
                  <div className="notification-actions">
                    {item.kind === "export.ready" && item.exportId ? (
                      <a
                        className="button button-primary button-small"
                        href={downloadUrl(item.orgSlug, item.exportId)}
                        download
                        onClick={() => {
                          if (!item.readAt) markRead.mutate(item.id);
                        }}
                      >
                        Download
                      </a>
                    ) : null}
                    {item.link ? (
                      <a
                        className="button button-primary button-small"
                        href={item.link}
                        onClick={(event) => {
                          if (!item.readAt) markRead.mutate(item.id);
                          if (event.metaKey || event.ctrlKey || event.shiftKey) return;
                          event.preventDefault();
                          navigate(item.link as string);
                        }}
                      >
                        {item.kind === "alert.fired" ? "View entries" : "Open"}
                      </a>
                    ) : null}
                    {!item.readAt ? (
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => markRead.mutate(item.id)}
                        // Starts with the visible words, as speech input expects.
                        aria-label={`Mark read: ${item.title}`}
                      >
                        Mark read
                      </button>
                    ) : null}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Popover>
  );
}

/**
 * A toast for each notification that arrives while the console is open (pushed live, or found
 * by polling); the ones that were there at sign-in are only in the bell.
 */
export function NotificationToasts() {
  const query = useNotifications();
  const toasts = useToasts();
  const markRead = useMarkNotificationRead();
  const seen = useRef<Set<string> | null>(null);

  useEffect(() => {
    if (!query.data) return;
    if (seen.current === null) {
      seen.current = new Set(query.data.map((item) => item.id));
      return;
    }
    for (const item of query.data as Notification[]) {
      if (seen.current.has(item.id)) continue;
      seen.current.add(item.id);
      if (item.readAt) continue;
      const ready = item.kind === "export.ready" && item.exportId;
      toasts.show({
        id: item.id,
        title: item.title,
        body: item.body,
        tone: item.kind === "export.failed" ? "error" : "success",
        ...(ready
          ? {
              action: {
                label: "Download",
                href: downloadUrl(item.orgSlug, item.exportId as string),
                download: true,
                onClick: () => markRead.mutate(item.id),
              },
            }
          : {}),
      });
    }
  }, [query.data, toasts, markRead]);

  return null;
}

function BellIcon() {
  return (
    <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
      <path
        d="M10 3a4.5 4.5 0 0 0-4.5 4.5v2.7L4 13h12l-1.5-2.8V7.5A4.5 4.5 0 0 0 10 3zM8.2 15a1.9 1.9 0 0 0 3.6 0"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinejoin="round"
      />
    </svg>
  );
}
