import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { Organization } from "../../api/api-types.ts";
import { errorMessage } from "../../api/client.ts";
import { Popover } from "../../components/popover.tsx";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { formatFullTimestamp, formatShort } from "../../lib/format-time.ts";
import { useTimeZone } from "../../lib/time-zone.ts";
import {
  acceptPublishedKeys,
  logIntegrityKeys,
  logVerificationOptions,
} from "./log-integrity-queries.ts";
import type { IntegrityFailure, KeyWarning, LogVerification } from "./log-verifier.ts";

export const failureTitles: Record<IntegrityFailure, string> = {
  "bad-signature": "Bad signature",
  "unknown-key": "Unknown key",
  "wrong-origin": "Wrong origin",
  inconsistent: "Inconsistent with a checkpoint seen before",
  malformed: "Malformed checkpoint",
};

/**
 * The state of the organisation's log as this browser verified it: "Verified through entry N"
 * (with the details in a panel), checking, no checkpoint yet, or a failure saying what failed.
 * Every state is written out, never shown by colour alone.
 */
export function LogIntegrityBadge({
  org,
  now,
}: {
  org: Pick<Organization, "id" | "slug">;
  now: number;
}) {
  // Checked once the first screen is painted (after-first-paint.ts); until then, "Checking".
  const painted = useAfterFirstPaint();
  const verification = useQuery({ ...logVerificationOptions(org), enabled: painted });
  if (verification.isPending) {
    return (
      <p className="integrity integrity-checking" role="status" aria-live="polite">
        <span aria-hidden="true">…</span> Checking the log's signed checkpoint
      </p>
    );
  }
  if (verification.isError) {
    return (
      <p className="integrity integrity-unknown" role="status">
        <span aria-hidden="true">?</span> Could not check the log:{" "}
        {errorMessage(verification.error)}{" "}
        <button
          type="button"
          className="button button-small"
          onClick={() => void verification.refetch()}
        >
          Retry
        </button>
      </p>
    );
  }
  return <VerificationState org={org} state={verification.data} now={now} />;
}

function VerificationState({
  org,
  state,
  now,
}: {
  org: Pick<Organization, "id" | "slug">;
  state: LogVerification;
  now: number;
}) {
  const { timeZone } = useTimeZone();
  if (state.status === "none") {
    return (
      <p className="integrity integrity-none" role="status">
        <span aria-hidden="true">○</span> No signed checkpoint yet: the log is verified once its
        first entries are signed.
      </p>
    );
  }
  if (state.status === "failed") {
    return (
      <div className="integrity integrity-failed" role="alert">
        <p>
          <span aria-hidden="true">✗</span>{" "}
          <strong>Verification failed: {failureTitles[state.reason]}.</strong> {state.message}
        </p>
        {state.trusted ? (
          <p className="small">
            Last verified in this browser: through entry {state.trusted.treeSize}, signed{" "}
            {state.trusted.signedAt}.
          </p>
        ) : null}
        <KeyWarnings org={org} warnings={state.keyWarnings} published={state.publishedKeys} />
      </div>
    );
  }
  const { checkpoint } = state;
  const warned = state.keyWarnings.length > 0;
  return (
    <div className="integrity-row" role="status">
      <Popover
        buttonClassName={`integrity integrity-verified${warned ? " integrity-warned" : ""}`}
        label={
          <>
            <span aria-hidden="true">✓</span>{" "}
            {checkpoint.treeSize === 0
              ? "Verified: no entries yet"
              : `Verified through entry ${checkpoint.treeSize}`}{" "}
            ·{" "}
            <time
              dateTime={checkpoint.signedAt}
              title={formatFullTimestamp(checkpoint.signedAt, timeZone)}
            >
              {formatShort(checkpoint.signedAt, now, timeZone)}
            </time>
            {warned ? <span className="integrity-warning-tag"> · key warning</span> : null}
          </>
        }
        panelLabel="Log verification"
      >
        {() => (
          <div className="integrity-panel">
            <p>
              This browser checked the organisation's latest signed checkpoint itself: its Ed25519
              signature by a key published at <code>/v1/checkpoint-keys</code>, its origin, and{" "}
              {state.extends === null
                ? "— first check in this browser — it is now the reference later checkpoints must extend."
                : `a consistency proof that the log only grew since the checkpoint of ${state.extends} entries it verified before.`}
            </p>
            <dl className="integrity-facts">
              <dt>Entries</dt>
              <dd>1 to {checkpoint.treeSize}</dd>
              <dt>Signed at</dt>
              <dd>{checkpoint.signedAt}</dd>
              <dt>Origin</dt>
              <dd className="mono wrap">{checkpoint.origin}</dd>
              <dt>Root hash</dt>
              <dd className="mono wrap">{checkpoint.rootHash}</dd>
              <dt>Signed by</dt>
              <dd className="mono wrap">{state.signedBy.join(", ")}</dd>
              <dt>Checked</dt>
              <dd>{checkpoint.verifiedAt}</dd>
            </dl>
            <KeyWarnings org={org} warnings={state.keyWarnings} published={state.publishedKeys} />
          </div>
        )}
      </Popover>
      {warned ? (
        <span className="integrity-warning-text">
          A checkpoint key seen before is no longer published as it was: open for details.
        </span>
      ) : null}
    </div>
  );
}

function KeyWarnings({
  org,
  warnings,
  published,
}: {
  org: Pick<Organization, "id" | "slug">;
  warnings: KeyWarning[];
  published: string[];
}) {
  const queryClient = useQueryClient();
  if (warnings.length === 0) return null;
  return (
    <div className="integrity-key-warnings">
      <p>
        <span aria-hidden="true">⚠</span> <strong>Key warning.</strong> Checkpoint keys this browser
        saw before:
      </p>
      <ul>
        {warnings.map((warning) => (
          <li key={`${warning.kind}-${warning.key}`}>
            <span className="mono">{warning.key}</span>{" "}
            {warning.kind === "disappeared"
              ? "is no longer published"
              : "is now published with a different public key"}
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="button button-small"
        onClick={() => {
          void acceptPublishedKeys(org.id, published).then(() =>
            queryClient.invalidateQueries({
              queryKey: logIntegrityKeys.verification(org.slug, org.id),
            }),
          );
        }}
      >
        Trust the keys published now
      </button>
    </div>
  );
}
