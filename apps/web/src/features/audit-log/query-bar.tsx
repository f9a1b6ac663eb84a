import { parseQuery } from "@auditlog/events";
import { type KeyboardEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import type { ApiErrorDetail } from "../../api/client.ts";
import { useKeyShortcuts } from "../../lib/keyboard-shortcuts.ts";
import { type RecentValues, rememberQueryValues } from "../../lib/recent-values.ts";
import { useTimeZone } from "../../lib/time-zone.ts";
import {
  applyCompletion,
  type CompletionOption,
  completeQuery,
  type RemoteValues,
  remoteTermAt,
} from "./query-completion.ts";

export interface QueryError {
  message: string;
  position: number;
  token: string;
}

interface QueryBarProps {
  /** The applied query (from the address bar). */
  value: string;
  onSubmit: (query: string) => void;
  /** A 400 from the API about `q`, when the applied query was refused there. */
  serverError?: ApiErrorDetail | null;
  recentValues?: RecentValues;
  /**
   * Told which author, target or ip value is being typed (null when none), so the page can ask
   * the server for values from the whole log; they come back as `remoteValues`.
   */
  onValueTerm?: (term: { key: RemoteValues["key"]; prefix: string } | null) => void;
  remoteValues?: RemoteValues | null;
}

/**
 * The query-language input: completion of keys and values as you type, Enter to apply. A query
 * that does not parse is not sent; the bad term is selected in the input and shown underlined
 * below it with the parser's explanation.
 */
export function QueryBar({
  value,
  onSubmit,
  serverError,
  recentValues = {},
  onValueTerm,
  remoteValues = null,
}: QueryBarProps) {
  const [draft, setDraft] = useState(value);
  const [caret, setCaret] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [localError, setLocalError] = useState<QueryError | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const pendingCaret = useRef<number | null>(null);
  const listboxId = useId();
  const errorId = useId();
  const helpId = useId();

  useEffect(() => {
    setDraft(value);
    setLocalError(null);
  }, [value]);

  // `/` focuses the query (as on GitHub and Datadog), unless a dialog or drawer holds the focus.
  useKeyShortcuts({
    "/": () => {
      if (document.querySelector('[aria-modal="true"]')) return false;
      inputRef.current?.focus();
      inputRef.current?.select();
      return true;
    },
  });

  useEffect(() => {
    if (pendingCaret.current === null) return;
    inputRef.current?.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  });

  const remoteTerm = open ? remoteTermAt(draft, caret) : null;
  const remoteKey = remoteTerm ? `${remoteTerm.key}:${remoteTerm.prefix}` : null;
  useEffect(() => {
    if (!onValueTerm) return;
    if (remoteKey === null) onValueTerm(null);
    else {
      const at = remoteKey.indexOf(":");
      onValueTerm({
        key: remoteKey.slice(0, at) as RemoteValues["key"],
        prefix: remoteKey.slice(at + 1),
      });
    }
  }, [remoteKey, onValueTerm]);

  const { timeZone } = useTimeZone();
  const completion = useMemo(
    () =>
      open ? completeQuery(draft, caret, recentValues, Date.now(), timeZone, remoteValues) : null,
    [open, draft, caret, recentValues, timeZone, remoteValues],
  );
  const options = useMemo(
    () => completion?.groups.flatMap((group) => group.options) ?? [],
    [completion],
  );
  const expanded = open && options.length > 0;
  const activeOption = expanded && active >= 0 ? options[active] : undefined;

  const serverQueryError: QueryError | null =
    serverError && draft === value && serverError.position !== undefined
      ? {
          message: serverError.message,
          position: serverError.position,
          token: serverError.token ?? "",
        }
      : null;
  const error = localError ?? serverQueryError;

  const syncCaret = () => setCaret(inputRef.current?.selectionStart ?? draft.length);

  const accept = (option: CompletionOption) => {
    if (!completion) return;
    const next = applyCompletion(draft, completion, option);
    setDraft(next.text);
    setCaret(next.caret);
    pendingCaret.current = next.caret;
    setActive(-1);
    setLocalError(null);
    // Keys lead straight on to their values; a finished value closes the list.
    setOpen(option.insert.endsWith(":"));
  };

  const submit = () => {
    const query = draft.trim();
    const parsed = parseQuery(query);
    setOpen(false);
    if (!parsed.ok) {
      const { message, position, token } = parsed.error;
      const offset = draft.indexOf(query);
      setLocalError({ message, position: position + offset, token });
      const input = inputRef.current;
      input?.focus();
      input?.setSelectionRange(position + offset, position + offset + token.length);
      return;
    }
    setLocalError(null);
    rememberQueryValues(parsed.query);
    onSubmit(query);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        setOpen(true);
        return;
      }
      if (options.length === 0) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((index) => {
        const next = index + step;
        if (next >= options.length) return -1;
        return next < -1 ? options.length - 1 : next;
      });
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      if (activeOption) accept(activeOption);
      else submit();
      return;
    }
    if (event.key === "Tab" && activeOption) {
      event.preventDefault();
      accept(activeOption);
      return;
    }
    if (event.key === "Escape" && expanded) {
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
      setActive(-1);
    }
  };

  const activeIndex = active >= options.length ? -1 : active;

  useEffect(() => {
    if (activeIndex < 0) return;
    document.getElementById(`${listboxId}-${activeIndex}`)?.scrollIntoView?.({ block: "nearest" });
  }, [activeIndex, listboxId]);

  return (
    <div className="query-bar">
      <form
        role="search"
        className={`query-field${error ? " has-error" : ""}`}
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <label htmlFor={`${listboxId}-input`} className="visually-hidden">
          Filter with a query
        </label>
        <SearchIcon />
        <input
          id={`${listboxId}-input`}
          ref={inputRef}
          aria-keyshortcuts="/"
          className="query-input"
          type="text"
          role="combobox"
          autoComplete="off"
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          placeholder="author:alice type:repo.create created:>=2026-01-01 -type:org.sso_login"
          value={draft}
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listboxId}
          aria-activedescendant={
            activeOption && activeIndex >= 0 ? `${listboxId}-${activeIndex}` : undefined
          }
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : helpId}
          onChange={(event) => {
            setDraft(event.target.value);
            setCaret(event.target.selectionStart ?? event.target.value.length);
            setOpen(true);
            setActive(-1);
            setLocalError(null);
          }}
          onKeyDown={onKeyDown}
          onKeyUp={(event) => {
            if (event.key.startsWith("Arrow") && !expanded) syncCaret();
            if (event.key === "ArrowLeft" || event.key === "ArrowRight") syncCaret();
            if (event.key === "Home" || event.key === "End") syncCaret();
          }}
          onClick={() => {
            syncCaret();
            setOpen(true);
          }}
          onBlur={() => {
            setOpen(false);
            setActive(-1);
          }}
        />
        {draft ? (
          <button
            type="button"
            className="icon-button query-clear"
            aria-label="Clear the query"
            onClick={() => {
              setDraft("");
              setLocalError(null);
              if (value !== "") onSubmit("");
              inputRef.current?.focus();
            }}
          >
            ×
          </button>
        ) : null}
        <button type="submit" className="button button-primary query-apply">
          Apply
        </button>
        {expanded && completion ? (
          <div className="completion" id={listboxId} role="listbox" aria-label="Suggestions">
            {(() => {
              let index = -1;
              return completion.groups.map((group) => (
                <div role="group" aria-label={group.label} key={group.label}>
                  <div className="completion-group" aria-hidden="true">
                    {group.label}
                  </div>
                  {group.options.map((option) => {
                    index += 1;
                    const optionIndex = index;
                    return (
                      <div
                        key={option.id}
                        id={`${listboxId}-${optionIndex}`}
                        role="option"
                        tabIndex={-1}
                        aria-selected={optionIndex === activeIndex}
                        className="completion-option"
                        onMouseDown={(event) => event.preventDefault()}
                        onClick={() => accept(option)}
                        onMouseEnter={() => setActive(optionIndex)}
                      >
                        <span className="completion-label">{option.label}</span>
                        {option.detail ? (
                          <span className="completion-detail">{option.detail}</span>
                        ) : null}
                      </div>
                    );
                  })}
                </div>
              ));
            })()}
            <div className="completion-hint" aria-hidden="true">
              ↑↓ choose · Enter or Tab insert · Esc close
            </div>
          </div>
        ) : null}
      </form>
      {error ? (
        <div id={errorId} className="query-error" role="alert">
          <span className="query-error-message">{error.message}</span>
          <code className="query-echo" aria-label={`The problem is at "${error.token}"`}>
            {draft.slice(0, error.position)}
            <mark>{draft.slice(error.position, error.position + error.token.length) || " "}</mark>
            {draft.slice(error.position + error.token.length)}
          </code>
        </div>
      ) : (
        <p id={helpId} className="visually-hidden">
          Keys: author, type, category, target, ip, country, created. Prefix a key with a minus to
          exclude. Press Enter to apply.
        </p>
      )}
    </div>
  );
}

function SearchIcon() {
  return (
    <svg className="query-icon" viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" strokeWidth="1.8" />
      <path d="M13 13l4 4" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}
