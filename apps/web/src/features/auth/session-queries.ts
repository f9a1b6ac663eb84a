import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { LoginResponse, MeResponse } from "../../api/api-types.ts";
import { ApiRequestError, apiRequest, setCsrfToken } from "../../api/client.ts";

export const sessionKeys = { me: ["me"] as const };

/** Who is signed in; `null` when nobody is (the console then shows the sign-in page). */
export function meOptions() {
  return queryOptions({
    queryKey: sessionKeys.me,
    queryFn: async ({ signal }): Promise<MeResponse | null> => {
      try {
        const me = await apiRequest<MeResponse>("/v1/me", { signal });
        setCsrfToken(me.csrfToken);
        return me;
      } catch (error) {
        if (error instanceof ApiRequestError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 5 * 60_000,
  });
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { email: string; password: string }) =>
      apiRequest<LoginResponse>("/v1/auth/login", { method: "POST", body: input }),
    onSuccess: async (result) => {
      setCsrfToken(result.csrfToken);
      // Whatever was cached belonged to whoever was signed in before.
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== "me" });
      await queryClient.invalidateQueries({ queryKey: sessionKeys.me });
    },
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest("/v1/auth/logout", { method: "POST" }),
    onSettled: async () => {
      setCsrfToken(null);
      // Signed out on screen at once: the `me` query is set, not removed, so the App's observer
      // (still attached to it) re-renders the sign-in page. `clear()` would drop that query and
      // leave the observer on a detached copy, the log staying visible until a reload.
      await queryClient.cancelQueries();
      queryClient.setQueryData(sessionKeys.me, null);
      // Whatever else was cached belonged to the user who just left.
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionKeys.me[0] });
      queryClient.getMutationCache().clear();
    },
  });
}
