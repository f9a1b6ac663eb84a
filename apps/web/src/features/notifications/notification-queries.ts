import type { Notification } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";

export const notificationKeys = { all: ["notifications"] as const };

export function notificationListOptions(options: { pollMs: number | false }) {
  return queryOptions({
    queryKey: notificationKeys.all,
    queryFn: ({ signal }) =>
      apiRequest("/v1/notifications", {
        schema: (schemas) => schemas.notificationListSchema,
        signal,
      }),
    refetchInterval: options.pollMs,
  });
}

export function useMarkNotificationRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      apiRequest(`/v1/notifications/${encodeURIComponent(id)}/read`, { method: "POST" }),
    onMutate: (id) => {
      const readAt = new Date().toISOString();
      queryClient.setQueryData<Notification[]>(notificationKeys.all, (list) =>
        list?.map((item) => (item.id === id && !item.readAt ? { ...item, readAt } : item)),
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: notificationKeys.all }),
  });
}

export function useMarkAllNotificationsRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest("/v1/notifications/read-all", { method: "POST" }),
    onMutate: () => {
      const readAt = new Date().toISOString();
      queryClient.setQueryData<Notification[]>(notificationKeys.all, (list) =>
        list?.map((item) => (item.readAt ? item : { ...item, readAt })),
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: notificationKeys.all }),
  });
}

/** Adds a pushed notification to the cached list (newest first), once. */
export function addNotification(
  list: Notification[] | undefined,
  notification: Notification,
): Notification[] {
  return [notification, ...(list ?? []).filter((item) => item.id !== notification.id)];
}
