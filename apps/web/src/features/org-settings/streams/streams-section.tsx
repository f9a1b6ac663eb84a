import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Organization } from "../../../api/api-types.ts";
import { ListCard } from "../section-states.tsx";
import { SigningSecretNotice } from "./signing-secret-notice.tsx";
import { StreamCreateForm } from "./stream-create-form.tsx";
import { StreamList } from "./stream-list.tsx";
import { streamListOptions } from "./stream-queries.ts";

/**
 * Settings › Streams: the organisation's log streams to SIEMs and buckets; `readOnly` (an
 * auditor) lists them without a control that changes them.
 */
export function StreamsSection({
  org,
  readOnly = false,
}: {
  org: Organization;
  readOnly?: boolean;
}) {
  const query = useQuery(streamListOptions(org.slug));
  // An https stream's generated signing secret: the create answer is the only time it is seen.
  const [issued, setIssued] = useState<{ name: string; secret: string } | null>(null);

  return (
    <section className="settings-section" aria-label="Log streams">
      <ListCard
        title="Log streams"
        intro={
          <>
            Every entry of this organisation's log, in order and at least once, to your SIEM
            (Splunk, Datadog, any HTTPS endpoint) or an S3 bucket. Each entry carries its{" "}
            <code>id</code> and <code>seq</code> so the receiver can drop duplicates.
          </>
        }
        query={query}
        loadingLabel="Loading streams"
        what="the streams"
      >
        {(streams) => <StreamList orgSlug={org.slug} streams={streams} readOnly={readOnly} />}
      </ListCard>
      {issued ? (
        <SigningSecretNotice
          name={issued.name}
          secret={issued.secret}
          onDismiss={() => setIssued(null)}
        />
      ) : null}
      {readOnly ? null : (
        <StreamCreateForm
          orgSlug={org.slug}
          onCreated={(created) =>
            setIssued(
              created.signingSecret ? { name: created.name, secret: created.signingSecret } : null,
            )
          }
        />
      )}
    </section>
  );
}
