import { type CreateStream, type LogStream, type UpdateStream } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../../api/client.ts";

/** The create answer: the stream, and an https stream's generated signing secret (once). */
export type { CreatedStream } from "../../../api/schemas.ts";

const streamsPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/streams`;
const streamPath = (orgSlug: string, id: string) =>
  `${streamsPath(orgSlug)}/${encodeURIComponent(id)}`;

export const streamKeys = {
  all: (orgSlug: string) => ["orgs", orgSlug, "streams"] as const,
  list: (orgSlug: string) => [...streamKeys.all(orgSlug), "list"] as const,
  detail: (orgSlug: string, id: string) => [...streamKeys.all(orgSlug), "detail", id] as const,
};

/** How often the list is read again while shown: lag and failures change as the worker runs. */
const refreshMs = 15_000;

/** The organisation's streams with their state and lag (never a secret). */
export function streamListOptions(orgSlug: string) {
  return queryOptions({
    queryKey: streamKeys.list(orgSlug),
    queryFn: ({ signal }) =>
      apiRequest(streamsPath(orgSlug), { schema: (schemas) => schemas.streamListSchema, signal }),
    select: (data) => data.streams,
    refetchInterval: refreshMs,
  });
}

export function useCreateStream(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateStream) =>
      apiRequest(streamsPath(orgSlug), {
        method: "POST",
        body,
        schema: (schemas) => schemas.createdStreamSchema,
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: streamKeys.all(orgSlug) }),
  });
}

export function useUpdateStream(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: UpdateStream }) =>
      apiRequest(streamPath(orgSlug, id), {
        method: "PATCH",
        body: change,
        schema: (schemas) => schemas.streamSchema,
      }),
    onSuccess: (stream: LogStream) => {
      queryClient.setQueryData(streamKeys.detail(orgSlug, stream.id), stream);
      return queryClient.invalidateQueries({ queryKey: streamKeys.list(orgSlug) });
    },
  });
}

export function useDeleteStream(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiRequest(streamPath(orgSlug, id), { method: "DELETE" }),
    onSuccess: (_answer, id) => {
      queryClient.removeQueries({ queryKey: streamKeys.detail(orgSlug, id) });
      return queryClient.invalidateQueries({ queryKey: streamKeys.list(orgSlug) });
    },
  });
}
