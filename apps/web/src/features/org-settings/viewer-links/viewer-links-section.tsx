import type { CreatedViewerLink } from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Organization } from "../../../api/api-types.ts";
import { ListCard, LoadError } from "../section-states.tsx";
import { CreatedLinkNotice } from "./created-link-notice.tsx";
import { FrameOriginsForm } from "./frame-origins-form.tsx";
import { ViewerLinkCreateForm } from "./viewer-link-create-form.tsx";
import { ViewerLinkList } from "./viewer-link-list.tsx";
import { viewerEmbeddingOptions, viewerLinkListOptions } from "./viewer-link-queries.ts";

/**
 * Settings › Viewer links (admins only, as the API's role policy says: a link is a credential to
 * the log): the links, a form that makes one, its address shown once, and the origins allowed
 * to frame the embeddable viewer.
 */
export function ViewerLinksSection({ org }: { org: Organization }) {
  const links = useQuery(viewerLinkListOptions(org.slug));
  const embedding = useQuery(viewerEmbeddingOptions(org.slug));
  // The create answer is the only time the token is seen.
  const [created, setCreated] = useState<CreatedViewerLink | null>(null);

  return (
    <section className="settings-section" aria-label="Viewer links">
      <ListCard
        title="Viewer links"
        intro={
          <>
            A read-only link to the part of the log matching a filter, for someone outside the
            organisation (a repository's owners, say), to open or to embed in your product. Each use
            is recorded in the log.
          </>
        }
        query={links}
        loadingLabel="Loading viewer links"
        what="the viewer links"
      >
        {(data) => <ViewerLinkList orgSlug={org.slug} links={data} />}
      </ListCard>
      {created ? <CreatedLinkNotice link={created} onDismiss={() => setCreated(null)} /> : null}
      <ViewerLinkCreateForm orgSlug={org.slug} onCreated={setCreated} />
      {embedding.isPending ? (
        <div className="settings-card" aria-busy="true" aria-label="Loading framing origins">
          <span className="skeleton skeleton-text" />
        </div>
      ) : embedding.isError ? (
        <LoadError
          what="the framing origins"
          error={embedding.error}
          onRetry={() => void embedding.refetch()}
        />
      ) : (
        <FrameOriginsForm orgSlug={org.slug} origins={embedding.data.frameOrigins} />
      )}
    </section>
  );
}
