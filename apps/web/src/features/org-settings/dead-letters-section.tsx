import type { DeadLetter } from "@auditlog/events";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useId } from "react";
import type { Organization } from "../../api/api-types.ts";
import { RelativeTime } from "../../components/relative-time.tsx";
import { deadLettersOptions } from "./dead-letter-queries.ts";
import { SectionLoadError, SectionLoading } from "./section-states.tsx";

/**
 * "Refused events": what the worker would not store for this organisation (PRODUCT.md: visible
 * with the reason), each with its failing fields and the event as it came, its address already
 * truncated. Replaying is an operator's act, once the cause is fixed.
 */
export function DeadLettersSection({ org }: { org: Organization }) {
  const query = useInfiniteQuery(deadLettersOptions(org.slug));
  if (query.isPending) return <SectionLoading label="Loading refused events" />;
  if (query.isError) {
    return (
      <SectionLoadError
        what="the refused events"
        error={query.error}
        onRetry={() => void query.refetch()}
      />
    );
  }
  const letters = query.data.pages.flatMap((page) => page.deadLetters);
  const now = Date.now();
  return (
    <section className="settings-section" aria-labelledby="dead-letters-title">
      <div className="settings-card">
        <h2 id="dead-letters-title">Refused events</h2>
        <p className="muted">
          Events accepted by the API that the worker would not store: kept here with the reason for
          a limited time (30 days by default). Once the cause is fixed, an operator replays them
          with <code>auditlog dead-letters replay --org {org.slug}</code>; each is then stored once.
        </p>
      </div>
      {letters.length === 0 ? (
        <div className="settings-card" role="status">
          <p>
            <strong>No refused events.</strong>{" "}
            <span className="muted">Every event this organisation sent was stored.</span>
          </p>
        </div>
      ) : (
        <ul className="dead-letters" aria-label="Refused events, newest first">
          {letters.map((letter) => (
            <DeadLetterItem key={letter.id} letter={letter} now={now} />
          ))}
        </ul>
      )}
      {query.hasNextPage ? (
        <div>
          <button
            type="button"
            className="button"
            disabled={query.isFetchingNextPage}
            onClick={() => void query.fetchNextPage()}
          >
            {query.isFetchingNextPage ? "Loading…" : "Load older"}
          </button>
        </div>
      ) : null}
    </section>
  );
}

function DeadLetterItem({ letter, now }: { letter: DeadLetter; now: number }) {
  const titleId = useId();
  return (
    <li className="settings-card dead-letter" aria-labelledby={titleId}>
      <div className="dead-letter-head">
        <h3 id={titleId}>
          <code>{letter.eventType ?? "(no type)"}</code>
          {letter.eventId ? <span className="muted"> · {letter.eventId}</span> : null}
        </h3>
        {letter.replayedAt ? (
          <span className="status status-ready">Replayed</span>
        ) : (
          <span className="status status-failed">Refused</span>
        )}
      </div>
      <dl className="settings-facts">
        <div>
          <dt>Received</dt>
          <dd>
            <RelativeTime at={letter.receivedAt} now={now} />
          </dd>
        </div>
        <div>
          <dt>{letter.replayedAt ? "Stored as" : "Refused"}</dt>
          <dd>
            {letter.replayedAt ? (
              <code>{letter.replayedEventId}</code>
            ) : (
              <RelativeTime at={letter.createdAt} now={now} />
            )}
          </dd>
        </div>
      </dl>
      <p className="dead-letter-reason wrap">{letter.reason}</p>
      {letter.issues.length > 0 ? (
        <ul className="dead-letter-issues" aria-label="Failing fields">
          {letter.issues.map((issue, index) => (
            // Issues have no id and never reorder: their position is their identity.
            <li key={index}>
              <code>{issue.path || "(the event)"}</code> {issue.message}
            </li>
          ))}
        </ul>
      ) : null}
      <details className="dead-letter-event">
        <summary>The event as received (IP truncated)</summary>
        <pre className="json" tabIndex={0} aria-label="The refused event as JSON">
          <code>{JSON.stringify(letter.event, null, 2)}</code>
        </pre>
      </details>
    </li>
  );
}
