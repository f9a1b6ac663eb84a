import type { Notification } from "@auditlog/events";
import { act, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { renderWithQueryClient } from "../../../test/render.tsx";
import { LiveUpdatesProvider, streamPath } from "./live-updates.tsx";
import { NotificationBell } from "./notification-bell.tsx";

/** The browser's EventSource, driven by the test: the server's side of the live stream. */
class ScriptedEventSource {
  static opened: ScriptedEventSource[] = [];
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();

  constructor(readonly url: string) {
    ScriptedEventSource.opened.push(this);
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close() {}

  emit(type: string, data: unknown) {
    const event = new MessageEvent(type, { data: JSON.stringify(data) });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

const failing: Notification = {
  id: "ntf_failing",
  kind: "stream.failing",
  title: 'Log stream "SIEM collector" is failing',
  body: "Deliveries have failed.",
  orgSlug: "acme",
  exportId: null,
  subjectId: "str_1",
  link: "/orgs/acme/settings/streams",
  createdAt: "2026-12-04T17:00:00.000Z",
  readAt: null,
};

/**
 * `GET /v1/notifications` answered from `stored` as it is when the request is read; each answer
 * waits until the test lets it go, so a list read before a notification was stored can arrive
 * after that notification's push.
 */
function scriptedNotificationsApi() {
  const stored: Notification[] = [];
  const held: (() => void)[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(String(input), "http://localhost");
    if (url.pathname !== "/v1/notifications") return new Response(null, { status: 404 });
    const body = JSON.stringify({ notifications: [...stored] });
    await new Promise<void>((resolve) => held.push(resolve));
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetch);
  return {
    stored,
    /** Answers every list request made so far. */
    release: () => {
      for (const resolve of held.splice(0)) resolve();
    },
    listRequests: () => fetch.mock.calls.length,
  };
}

describe("the bell with the live stream", () => {
  it("keeps a pushed notification when a list read before it was stored answers after it", async () => {
    ScriptedEventSource.opened = [];
    vi.stubGlobal("EventSource", ScriptedEventSource);
    const api = scriptedNotificationsApi();
    renderWithQueryClient(
      <LiveUpdatesProvider enabled>
        <NotificationBell />
      </LiveUpdatesProvider>,
    );
    const source = ScriptedEventSource.opened[0];
    expect(source?.url).toBe(streamPath);

    // The stream opens: the list is asked for again, and that read happens before the
    // notification is stored.
    await vi.waitFor(() => expect(api.listRequests()).toBe(1));
    await act(async () => api.release());
    await screen.findByRole("button", { name: "Notifications" });
    act(() => source?.onopen?.());
    await vi.waitFor(() => expect(api.listRequests()).toBeGreaterThan(1));

    // The worker stores the notification and publishes it; the push arrives while that read
    // is still on its way.
    api.stored.push(failing);
    act(() => source?.emit("notification", failing));
    await screen.findByRole("button", { name: "Notifications, 1 unread" });

    // The stale read lands, then whatever the push asked for.
    await act(async () => api.release());
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      api.release();
    });
    expect(await screen.findByRole("button", { name: "Notifications, 1 unread" })).toBeTruthy();
    // Not a moment's state: the list it settled on holds the notification.
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      api.release();
    });
    expect(screen.getByRole("button", { name: "Notifications, 1 unread" })).toBeTruthy();
  });
});
