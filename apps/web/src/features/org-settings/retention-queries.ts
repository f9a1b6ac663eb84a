import { type RetentionSettings, type RetentionUpdate } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";

const retentionPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/retention`;

export const retentionKeys = {
  all: (orgSlug: string) => ["orgs", orgSlug, "retention"] as const,
  settings: (orgSlug: string) => [...retentionKeys.all(orgSlug), "settings"] as const,
};

/** The organisation's retention in force, its plan's bounds, its legal hold. */
export function retentionOptions(orgSlug: string) {
  return queryOptions({
    queryKey: retentionKeys.settings(orgSlug),
    queryFn: ({ signal }) =>
      apiRequest(retentionPath(orgSlug), {
        schema: (schemas) => schemas.retentionSettingsSchema,
        signal,
      }),
  });
}

/** One change (retention, or the legal hold with its reason); the answer is the new state. */
export function useUpdateRetention(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (update: RetentionUpdate) =>
      apiRequest(retentionPath(orgSlug), {
        method: "PUT",
        body: update,
        schema: (schemas) => schemas.retentionSettingsSchema,
      }),
    onSuccess: (settings: RetentionSettings) => {
      queryClient.setQueryData(retentionKeys.settings(orgSlug), settings);
    },
  });
}
