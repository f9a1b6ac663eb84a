import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { errorMessage } from "../../api/client.ts";

/** A settings section while its data loads: placeholder lines, named for assistive technology. */
export function SectionLoading({ label }: { label: string }) {
  return (
    <section className="settings-section" aria-busy="true" aria-label={label}>
      <div className="settings-card">
        <span className="skeleton skeleton-text" />
        <span className="skeleton skeleton-text" />
      </div>
    </section>
  );
}

/** Why a settings section's data could not load (`what`: "the streams"), with a retry. */
export function LoadError({
  what,
  error,
  onRetry,
}: {
  what: string;
  error: unknown;
  onRetry: () => void;
}) {
  return (
    <div className="notice notice-error" role="alert">
      <p>
        Could not load {what}: {errorMessage(error)}
      </p>
      <button type="button" className="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}

/** A whole settings section that could not load. */
export function SectionLoadError(props: { what: string; error: unknown; onRetry: () => void }) {
  return (
    <section className="settings-section">
      <LoadError {...props} />
    </section>
  );
}

/**
 * A settings card whose list a query loads: its title and intro, then placeholder lines while
 * the query is pending (named `loadingLabel`), why it failed with a retry (`what`: "the
 * streams"), or `children` given the data.
 */
export function ListCard<T>({
  title,
  intro,
  query,
  loadingLabel,
  what,
  children,
}: {
  title: string;
  intro: ReactNode;
  query: UseQueryResult<T>;
  loadingLabel: string;
  what: string;
  children: (data: T) => ReactNode;
}) {
  return (
    <div className="settings-card">
      <h2>{title}</h2>
      <p className="muted">{intro}</p>
      {query.isPending ? (
        <div aria-busy="true" aria-label={loadingLabel}>
          <span className="skeleton skeleton-text" />
          <span className="skeleton skeleton-text" />
        </div>
      ) : query.isError ? (
        <LoadError what={what} error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        children(query.data)
      )}
    </div>
  );
}
