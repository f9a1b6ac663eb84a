import { type CreateSavedView, type SavedView } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";

const viewsPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/views`;

export const savedViewKeys = {
  list: (orgSlug: string) => ["orgs", orgSlug, "views"] as const,
};

/** The signed-in user's saved views of one organisation's log, by name. */
export function savedViewsOptions(orgSlug: string) {
  return queryOptions({
    queryKey: savedViewKeys.list(orgSlug),
    queryFn: async ({ signal }) =>
      (
        await apiRequest(viewsPath(orgSlug), {
          schema: (schemas) => schemas.savedViewListSchema,
          signal,
        })
      ).views,
  });
}

export function useCreateSavedView(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateSavedView) =>
      apiRequest(viewsPath(orgSlug), {
        method: "POST",
        body: input,
        schema: (schemas) => schemas.savedViewSchema,
      }),
    onSuccess: (created) => {
      queryClient.setQueryData<SavedView[]>(savedViewKeys.list(orgSlug), (list) =>
        [...(list ?? []).filter((view) => view.id !== created.id), created].sort((a, b) =>
          a.name.localeCompare(b.name),
        ),
      );
    },
  });
}

export function useDeleteSavedView(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      apiRequest(`${viewsPath(orgSlug)}/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: (_result, id) => {
      queryClient.setQueryData<SavedView[]>(savedViewKeys.list(orgSlug), (list) =>
        list?.filter((view) => view.id !== id),
      );
    },
  });
}
