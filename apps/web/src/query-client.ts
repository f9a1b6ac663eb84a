import { QueryCache, QueryClient } from "@tanstack/react-query";
import { ApiRequestError, isRetryable } from "./api/client.ts";
import { sessionKeys } from "./features/auth/session-queries.ts";

export function createQueryClient(): QueryClient {
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        // The session ended (expired, or signed out elsewhere): back to the sign-in page.
        if (
          error instanceof ApiRequestError &&
          error.status === 401 &&
          query.queryKey[0] !== "me"
        ) {
          void queryClient.invalidateQueries({ queryKey: sessionKeys.me });
        }
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: (failures, error) => isRetryable(error) && failures < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
  return queryClient;
}
