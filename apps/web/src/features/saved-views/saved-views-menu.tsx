import type { SavedView, SavedViewFilters } from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { Popover } from "../../components/popover.tsx";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { filtersFromSearch, filtersToSearch, type LogFilters } from "../audit-log/filters.ts";
import { preparedViews } from "./prepared-views.ts";
import { savedViewsOptions, useCreateSavedView, useDeleteSavedView } from "./saved-view-queries.ts";

interface SavedViewsMenuProps {
  orgSlug: string;
  filters: LogFilters;
  onApply: (filters: LogFilters) => void;
}

/** A saved view's filters as the address gives them: a view saved with types has them in q. */
function toLogFilters(saved: SavedViewFilters): LogFilters {
  const filters: LogFilters = { q: saved.q, types: [...saved.types], range: saved.range };
  if (saved.from) filters.from = saved.from;
  if (saved.to) filters.to = saved.to;
  return filtersFromSearch(filtersToSearch(filters));
}

function toSavedFilters(filters: LogFilters): SavedViewFilters {
  return {
    q: filters.q,
    types: filters.types,
    range: filters.range,
    ...(filters.range === "custom" && filters.from ? { from: filters.from } : {}),
    ...(filters.range === "custom" && filters.to ? { to: filters.to } : {}),
  };
}

function sameFilters(a: LogFilters, b: LogFilters): boolean {
  return JSON.stringify(toSavedFilters(a)) === JSON.stringify(toSavedFilters(b));
}

/**
 * "Views": the prepared filters (Security, Membership, Tokens: a `q` each, the time range kept)
 * and the user's own saved views (the whole URL filter state, stored on the server per user
 * and organisation, so they follow the admin to any browser), with saving and deleting.
 */
export function SavedViewsMenu({ orgSlug, filters, onApply }: SavedViewsMenuProps) {
  // Asked for once the first screen is painted (after-first-paint.ts).
  const painted = useAfterFirstPaint();
  const views = useQuery({ ...savedViewsOptions(orgSlug), enabled: painted });
  const current =
    views.data?.find((view) => sameFilters(toLogFilters(view.filters), filters))?.name ??
    preparedViews.find((view) => filters.types.length === 0 && filters.q === view.q)?.name;
  return (
    <Popover
      label={
        <>
          <span className="button-caption">View</span> {current ?? "Custom"}
        </>
      }
      ariaLabel={`View: ${current ?? "Custom"}`}
      buttonClassName={`button${current ? " button-active" : ""}`}
      panelLabel="Views"
    >
      {(close) => (
        <SavedViewsPanel
          orgSlug={orgSlug}
          filters={filters}
          views={views.data}
          loadError={views.isError ? errorMessage(views.error) : null}
          onApply={(next) => {
            onApply(next);
            close();
          }}
        />
      )}
    </Popover>
  );
}

function SavedViewsPanel({
  orgSlug,
  filters,
  views,
  loadError,
  onApply,
}: SavedViewsMenuProps & { views: SavedView[] | undefined; loadError: string | null }) {
  const create = useCreateSavedView(orgSlug);
  const remove = useDeleteSavedView(orgSlug);
  const [name, setName] = useState("");
  const createError =
    create.error instanceof ApiRequestError
      ? (create.error.details.find((detail) => detail.path === "name")?.message ??
        create.error.message)
      : create.error
        ? errorMessage(create.error)
        : null;

  const save = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === "") return;
    create.mutate(
      { name: name.trim(), filters: toSavedFilters(filters) },
      { onSuccess: () => setName("") },
    );
  };

  return (
    <div className="saved-views">
      <p className="saved-views-heading">Prepared</p>
      <ul className="saved-views-list">
        {preparedViews.map((view) => (
          <li key={view.id}>
            <button
              type="button"
              className="saved-views-apply"
              onClick={() => onApply({ ...filters, q: view.q, types: [] })}
            >
              <span className="saved-views-name">{view.name}</span>
              <span className="saved-views-sub">{view.description}</span>
            </button>
          </li>
        ))}
      </ul>
      <p className="saved-views-heading">Your views</p>
      {loadError ? (
        <p className="notice notice-error" role="alert">
          {loadError}
        </p>
      ) : views === undefined ? (
        <p className="muted saved-views-empty">Loading…</p>
      ) : views.length === 0 ? (
        <p className="muted saved-views-empty">None yet: save the current filter below.</p>
      ) : (
        <ul className="saved-views-list">
          {views.map((view) => (
            <li key={view.id} className="saved-views-item">
              <button
                type="button"
                className="saved-views-apply"
                onClick={() => onApply(toLogFilters(view.filters))}
              >
                <span className="saved-views-name">{view.name}</span>
                <span className="saved-views-sub">{describeFilters(view.filters)}</span>
              </button>
              <button
                type="button"
                className="icon-button"
                aria-label={`Delete view ${view.name}`}
                disabled={remove.isPending}
                onClick={() => remove.mutate(view.id)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {remove.isError ? (
        <p className="notice notice-error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
      <form className="saved-views-form" onSubmit={save}>
        <label className="visually-hidden" htmlFor={`saved-view-name-${orgSlug}`}>
          Name of the current view
        </label>
        <input
          id={`saved-view-name-${orgSlug}`}
          className="input"
          value={name}
          maxLength={100}
          placeholder="Name this view"
          onChange={(event) => {
            setName(event.target.value);
            if (create.isError) create.reset();
          }}
          aria-invalid={createError ? true : undefined}
        />
        <button
          type="submit"
          className="button button-primary"
          disabled={create.isPending || name.trim() === ""}
        >
          Save view
        </button>
      </form>
      {createError ? (
        <p className="notice notice-error" role="alert">
          {createError}
        </p>
      ) : null}
    </div>
  );
}

/** A short reminder of what a saved view selects. */
function describeFilters(filters: SavedViewFilters): string {
  const parts = [
    filters.q,
    filters.types.length === 1 ? filters.types[0] : "",
    filters.types.length > 1 ? `${filters.types.length} types` : "",
    filters.range === "all" ? "" : filters.range === "custom" ? "custom range" : filters.range,
  ].filter((part) => part);
  return parts.length > 0 ? parts.join(" · ") : "everything";
}
