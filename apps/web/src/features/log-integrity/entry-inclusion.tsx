import type { AuditEntry } from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import type { Organization } from "../../api/api-types.ts";
import { errorMessage } from "../../api/client.ts";
import { failureTitles } from "./log-integrity-badge.tsx";
import { entryInclusionOptions, logVerificationOptions } from "./log-integrity-queries.ts";
import type { TrustedCheckpoint } from "./log-verifier.ts";

type Org = Pick<Organization, "id" | "slug">;

/**
 * In an entry's details: whether this entry, exactly as shown, is in the checkpoint the browser
 * verified (its leaf recomputed here, its inclusion proof walked up to the verified root).
 */
export function EntryInclusion({ org, entry }: { org: Org; entry: AuditEntry }) {
  const verification = useQuery(logVerificationOptions(org));
  let body: ReactNode;
  if (verification.isPending) {
    body = <p className="muted">Checking the log's signed checkpoint…</p>;
  } else if (verification.isError) {
    body = (
      <p className="muted">
        The log could not be checked ({errorMessage(verification.error)}), so neither can this
        entry's inclusion.
      </p>
    );
  } else if (verification.data.status === "none") {
    body = <p className="muted">No signed checkpoint yet: this entry cannot be proved yet.</p>;
  } else if (verification.data.status === "failed") {
    body = (
      <p className="inclusion inclusion-failed">
        <span aria-hidden="true">✗</span> Not checked: the log itself failed verification (
        {failureTitles[verification.data.reason]}).
      </p>
    );
  } else if (entry.seq > verification.data.checkpoint.treeSize) {
    body = (
      <p className="muted">
        Entry {entry.seq} is newer than the verified checkpoint (entries 1 to{" "}
        {verification.data.checkpoint.treeSize}): refresh once the next checkpoint is signed.
      </p>
    );
  } else {
    body = <ProofCheck org={org} entry={entry} checkpoint={verification.data.checkpoint} />;
  }
  return (
    <section className="details-integrity" aria-labelledby="details-integrity-title">
      <h3 id="details-integrity-title">Log inclusion</h3>
      {body}
    </section>
  );
}

function ProofCheck({
  org,
  entry,
  checkpoint,
}: {
  org: Org;
  entry: AuditEntry;
  checkpoint: TrustedCheckpoint;
}) {
  const check = useQuery(entryInclusionOptions(org, entry, checkpoint));
  if (check.isPending) return <p className="muted">Checking this entry's inclusion proof…</p>;
  if (check.isError) {
    return (
      <p className="inclusion inclusion-failed" role="alert">
        <span aria-hidden="true">✗</span> Could not get this entry's inclusion proof:{" "}
        {errorMessage(check.error)}
      </p>
    );
  }
  const { proof, result } = check.data;
  return (
    <>
      {result.status === "included" ? (
        <p className="inclusion inclusion-ok" role="status">
          <span aria-hidden="true">✓</span> Included in the verified log at entry {result.seq}
        </p>
      ) : (
        <p className="inclusion inclusion-failed" role="alert">
          <span aria-hidden="true">✗</span> <strong>Inclusion proof failed.</strong>{" "}
          {result.message}
        </p>
      )}
      <details className="inclusion-proof">
        <summary>
          Proof: {proof.proof.length} {proof.proof.length === 1 ? "hash" : "hashes"} to the root of
          entries 1 to {proof.treeSize}
        </summary>
        <dl className="integrity-facts">
          <dt>Leaf index</dt>
          <dd>{proof.leafIndex}</dd>
          <dt>Leaf hash (computed here)</dt>
          <dd className="mono wrap">{result.leafHash ?? "—"}</dd>
          <dt>Leaf hash (the log's)</dt>
          <dd className="mono wrap">{proof.leafHash}</dd>
          <dt>Verified root</dt>
          <dd className="mono wrap">{checkpoint.rootHash}</dd>
        </dl>
        <ol className="inclusion-hashes mono">
          {proof.proof.map((hash, i) => (
            // Hashes can repeat in a proof; their position is their identity.
            <li key={i}>{hash}</li>
          ))}
        </ol>
      </details>
    </>
  );
}
