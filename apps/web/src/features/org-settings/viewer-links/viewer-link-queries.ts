import type { CreateViewerLink, ViewerEmbedding } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../../api/client.ts";

const orgPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}`;
const linksPath = (orgSlug: string) => `${orgPath(orgSlug)}/viewer-links`;

export const viewerLinkKeys = {
  all: (orgSlug: string) => ["orgs", orgSlug, "viewer-links"] as const,
  list: (orgSlug: string) => [...viewerLinkKeys.all(orgSlug), "list"] as const,
  embedding: (orgSlug: string) => [...viewerLinkKeys.all(orgSlug), "embedding"] as const,
};

/** The organisation's viewer links, newest first, expired and revoked ones included. */
export function viewerLinkListOptions(orgSlug: string) {
  return queryOptions({
    queryKey: viewerLinkKeys.list(orgSlug),
    queryFn: ({ signal }) =>
      apiRequest(linksPath(orgSlug), { schema: (schemas) => schemas.viewerLinkListSchema, signal }),
    select: (data) => data.links,
  });
}

/** The origins allowed to frame the embeddable viewer (none: unframeable). */
export function viewerEmbeddingOptions(orgSlug: string) {
  return queryOptions({
    queryKey: viewerLinkKeys.embedding(orgSlug),
    queryFn: ({ signal }) =>
      apiRequest(`${orgPath(orgSlug)}/viewer-embedding`, {
        schema: (schemas) => schemas.viewerEmbeddingSchema,
        signal,
      }),
  });
}

export function useCreateViewerLink(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateViewerLink) =>
      apiRequest(linksPath(orgSlug), {
        method: "POST",
        body,
        schema: (schemas) => schemas.createdViewerLinkSchema,
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewerLinkKeys.list(orgSlug) }),
  });
}

export function useRevokeViewerLink(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      apiRequest(`${linksPath(orgSlug)}/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewerLinkKeys.list(orgSlug) }),
  });
}

export function useSetFrameOrigins(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ViewerEmbedding) =>
      apiRequest(`${orgPath(orgSlug)}/viewer-embedding`, {
        method: "PUT",
        body,
        schema: (schemas) => schemas.viewerEmbeddingSchema,
      }),
    onSuccess: (stored) => queryClient.setQueryData(viewerLinkKeys.embedding(orgSlug), stored),
  });
}
