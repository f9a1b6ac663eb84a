import type { RetentionSettings } from "@auditlog/events";
import { planLabel } from "../orgs/org-switcher.tsx";

const number = new Intl.NumberFormat("en-US");

/** "180 days", "1 day", and years where they are whole (2,557 days is about 7 years). */
export function formatDays(days: number): string {
  const text = `${number.format(days)} ${days === 1 ? "day" : "days"}`;
  if (days >= 365 && days % 365 <= 2) {
    const years = Math.round(days / 365);
    return `${text} (about ${years} ${years === 1 ? "year" : "years"})`;
  }
  return text;
}

/** What is kept, for how long, and where the log starts: the facts before any form. */
export function RetentionSummary({
  settings,
  plan,
}: {
  settings: RetentionSettings;
  plan: string;
}) {
  const { days, planDefault, bounds, legalHold, retainedFrom } = settings;
  return (
    <dl className="settings-facts">
      <div>
        <dt>Retention in force</dt>
        <dd>
          <strong>{formatDays(days)}</strong>
          <span className="muted">
            {planDefault ? ` · the ${planLabel(plan)} plan's default` : " · chosen by an admin"}
          </span>
        </dd>
      </div>
      <div>
        <dt>{planLabel(plan)} plan allows</dt>
        <dd>
          {number.format(bounds.minDays)} to {formatDays(bounds.maxDays)}
          <span className="muted"> · default {formatDays(bounds.defaultDays)}</span>
        </dd>
      </div>
      <div>
        <dt>Legal hold</dt>
        <dd>
          <span className={`status ${legalHold ? "status-hold" : "status-off"}`}>
            {legalHold ? "On: nothing is purged" : "Off"}
          </span>
        </dd>
      </div>
      <div>
        <dt>Retained log</dt>
        <dd>
          {retainedFrom > 1
            ? `Entries before #${number.format(retainedFrom)} were purged.`
            : "Nothing has been purged: the log starts at entry #1."}
        </dd>
      </div>
    </dl>
  );
}
