import { type AuditEntry, categoryLabels, getEventSummary } from "@auditlog/events";
import type { ReactNode } from "react";
import type { Organization } from "../../api/api-types.ts";
import { CopyButton } from "../../components/copy-button.tsx";
import { Modal } from "../../components/modal.tsx";
import { locationLabel } from "../../lib/country-name.ts";
import { formatFull, formatRelative } from "../../lib/format-time.ts";
import { useKeyShortcuts } from "../../lib/keyboard-shortcuts.ts";
import { useTimeZone } from "../../lib/time-zone.ts";
import { facetValueLabel } from "../facets/facet-rail.tsx";
import { PivotMenu } from "../facets/pivot-menu.tsx";
import { EntryInclusion } from "../log-integrity/entry-inclusion.tsx";
import { Avatar, actorKindLabel, TypeBadge } from "./entry-cells.tsx";

interface EntryDetailsProps {
  /** Whose log: its id is part of the entry's Merkle leaf. */
  org: Pick<Organization, "id" | "slug">;
  entry: AuditEntry | undefined;
  loading: boolean;
  error: string | null;
  onClose: () => void;
  now: number;
  /** The newer (previous) and older (next) entries of the list: buttons, and `k` / `j`. */
  onPrevious?: (() => void) | undefined;
  onNext?: (() => void) | undefined;
}

/** Everything an entry holds, in a drawer; `data` pretty-printed with a copy button. */
export function EntryDetails({
  org,
  entry,
  loading,
  error,
  onClose,
  now,
  onPrevious,
  onNext,
}: EntryDetailsProps) {
  useKeyShortcuts({
    j: () => (onNext ? (onNext(), true) : false),
    k: () => (onPrevious ? (onPrevious(), true) : false),
  });
  return (
    <Modal
      title="Entry details"
      variant="drawer"
      onClose={onClose}
      actions={
        <>
          <EntryStepper onPrevious={onPrevious} onNext={onNext} />
          {entry ? <CopyButton text={window.location.href} label="Copy link" /> : null}
        </>
      }
    >
      {loading ? <DetailsSkeleton /> : null}
      {error ? (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      ) : null}
      {entry ? <EntryBody org={org} entry={entry} now={now} /> : null}
    </Modal>
  );
}

/**
 * Previous (newer) and next (older) entry, the buttons for what `k` and `j` do. At either end a
 * button is aria-disabled rather than disabled, so the focus stays on it (and in the drawer).
 */
function EntryStepper({ onPrevious, onNext }: Pick<EntryDetailsProps, "onPrevious" | "onNext">) {
  return (
    <span className="entry-stepper">
      <button
        type="button"
        className="icon-button"
        onClick={onPrevious}
        aria-disabled={!onPrevious}
        aria-label="Previous entry"
        aria-keyshortcuts="k"
        title="Previous (newer) entry · k"
      >
        <ChevronIcon direction="up" />
      </button>
      <button
        type="button"
        className="icon-button"
        onClick={onNext}
        aria-disabled={!onNext}
        aria-label="Next entry"
        aria-keyshortcuts="j"
        title="Next (older) entry · j"
      >
        <ChevronIcon direction="down" />
      </button>
    </span>
  );
}

function ChevronIcon({ direction }: { direction: "up" | "down" }) {
  return (
    <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <path
        d={direction === "up" ? "M5 12.5l5-5 5 5" : "M5 7.5l5 5 5-5"}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function EntryBody({
  org,
  entry,
  now,
}: {
  org: EntryDetailsProps["org"];
  entry: AuditEntry;
  now: number;
}) {
  const definition = getEventSummary(entry.type);
  const { timeZone } = useTimeZone();
  const json = JSON.stringify(entry.data, null, 2);
  return (
    <div className="details">
      <div className="details-summary">
        <TypeBadge type={entry.type} category={entry.category} />
        <p className="details-description">{entry.description}</p>
      </div>
      <dl className="details-list">
        <Row label="When">
          <time dateTime={entry.occurredAt} data-time-zone={timeZone}>
            {formatFull(entry.occurredAt, timeZone)}
          </time>
          <span className="details-sub">
            {timeZone} · {entry.occurredAt} (UTC) · {formatRelative(entry.occurredAt, now)}
          </span>
        </Row>
        <Row label="Actor">
          <span className="details-actor">
            <Avatar actor={entry.actor} size={24} />
            <span>
              {entry.actor.name}
              <PivotMenu queryKey="author" value={entry.actor.name} />
              <span className="details-sub">
                {actorKindLabel(entry.actor)} · <span className="mono">{entry.actor.id}</span>
              </span>
            </span>
          </span>
        </Row>
        <Row label="Type">
          <span className="mono">{entry.type}</span>
          <PivotMenu queryKey="type" value={entry.type} />
          <span className="details-sub">
            {definition?.title ?? "Unknown type"} · {categoryLabels[entry.category]}
            <PivotMenu
              queryKey="category"
              value={entry.category}
              label={categoryLabels[entry.category]}
            />
          </span>
        </Row>
        <Row label="Target">
          {entry.target ? (
            <>
              {entry.target.name ?? entry.target.id}
              <PivotMenu
                queryKey="target"
                value={entry.target.id}
                label={entry.target.name ?? undefined}
              />
              <span className="details-sub">
                {entry.target.type} · <span className="mono">{entry.target.id}</span>
              </span>
            </>
          ) : (
            <span className="muted">None</span>
          )}
        </Row>
        <Row label="Location">
          {locationLabel(entry.location) || <span className="muted">Unknown</span>}
          {entry.location?.countryCode ? (
            <PivotMenu
              queryKey="country"
              value={entry.location.countryCode}
              label={facetValueLabel("country", entry.location.countryCode)}
            />
          ) : null}
        </Row>
        <Row label="IP address">
          {entry.ip ? (
            <>
              <span className="mono">{entry.ip}</span>
              <PivotMenu queryKey="ip" value={entry.ip} />
              <span className="details-sub">Anonymised (IPv4 /24, IPv6 /48)</span>
            </>
          ) : (
            <span className="muted">Not recorded</span>
          )}
        </Row>
        <Row label="User agent">
          {entry.userAgent ? (
            <span className="mono wrap">{entry.userAgent}</span>
          ) : (
            <span className="muted">Not recorded</span>
          )}
        </Row>
        {entry.oauth ? (
          <Row label="OAuth app">
            {entry.oauth.name ?? entry.oauth.clientId}
            <span className="details-sub mono">{entry.oauth.clientId}</span>
          </Row>
        ) : null}
        <Row label="Received">
          <time dateTime={entry.receivedAt}>{entry.receivedAt}</time>
        </Row>
        <Row label="Entry ID">
          <span className="mono">{entry.id}</span>
          <span className="details-sub">Entry {entry.seq} of the organisation's log</span>
          {entry.hiddenByDefault ? (
            <span className="details-sub">Hidden from the default view</span>
          ) : null}
        </Row>
      </dl>
      <section className="details-data" aria-labelledby="details-data-title">
        <div className="details-data-head">
          <h3 id="details-data-title">Data</h3>
          <CopyButton text={json} label="Copy JSON" />
        </div>
        <pre className="json" tabIndex={0} aria-label="Entry data as JSON">
          <code>{json}</code>
        </pre>
      </section>
      <EntryInclusion org={org} entry={entry} />
    </div>
  );
}

function DetailsSkeleton() {
  return (
    <div className="details" role="status" aria-busy="true" aria-label="Loading the entry">
      <span className="skeleton skeleton-type" />
      <span className="skeleton skeleton-text" />
      <span className="skeleton skeleton-block" />
    </div>
  );
}
