import { type AlertRule, type CreateAlertRule, type UpdateAlertRule } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";

const alertsPath = (orgSlug: string, id = "") =>
  `/v1/orgs/${encodeURIComponent(orgSlug)}/alerts${id ? `/${encodeURIComponent(id)}` : ""}`;

export const alertKeys = {
  list: (orgSlug: string) => ["orgs", orgSlug, "alerts"] as const,
};

/** The organisation's alert rules, oldest first. */
export function alertRulesOptions(orgSlug: string) {
  return queryOptions({
    queryKey: alertKeys.list(orgSlug),
    queryFn: async ({ signal }) =>
      (
        await apiRequest(alertsPath(orgSlug), {
          schema: (schemas) => schemas.alertRuleListSchema,
          signal,
        })
      ).alerts,
  });
}

/** Create, change or delete a rule; the list is read again after each. */
export function useAlertMutations(orgSlug: string) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: alertKeys.list(orgSlug) });
  const create = useMutation({
    mutationFn: (rule: CreateAlertRule): Promise<AlertRule> =>
      apiRequest(alertsPath(orgSlug), {
        method: "POST",
        body: rule,
        schema: (schemas) => schemas.alertRuleSchema,
      }),
    onSuccess: refresh,
  });
  const update = useMutation({
    mutationFn: ({ id, update }: { id: string; update: UpdateAlertRule }): Promise<AlertRule> =>
      apiRequest(alertsPath(orgSlug, id), {
        method: "PATCH",
        body: update,
        schema: (schemas) => schemas.alertRuleSchema,
      }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => apiRequest(alertsPath(orgSlug, id), { method: "DELETE" }),
    onSuccess: refresh,
  });
  return { create, update, remove };
}
