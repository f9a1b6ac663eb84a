import type { DeadLetterPage } from "@auditlog/events";
import { infiniteQueryOptions } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";

const deadLettersPath = (orgSlug: string, before: string | null) =>
  `/v1/orgs/${encodeURIComponent(orgSlug)}/dead-letters${
    before ? `?before=${encodeURIComponent(before)}` : ""
  }`;

export const deadLetterKeys = {
  all: (orgSlug: string) => ["orgs", orgSlug, "dead-letters"] as const,
  list: (orgSlug: string) => [...deadLetterKeys.all(orgSlug), "list"] as const,
};

/** The events the worker refused for the organisation, newest first, a page at a time. */
export function deadLettersOptions(orgSlug: string) {
  return infiniteQueryOptions({
    queryKey: deadLetterKeys.list(orgSlug),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }): Promise<DeadLetterPage> =>
      apiRequest(deadLettersPath(orgSlug, pageParam), {
        schema: (schemas) => schemas.deadLetterPageSchema,
        signal,
      }),
    getNextPageParam: (last) => last.nextBefore,
  });
}
