import {
  type AlertRule,
  type CreateAlertRule,
  parseQuery,
  storedQueryLimits,
  type UpdateAlertRule,
} from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { Organization } from "../../api/api-types.ts";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { alertRulesOptions, useAlertMutations } from "./alert-queries.ts";
import { SectionLoadError, SectionLoading } from "./section-states.tsx";
import { FieldError, FormError } from "./settings-field.tsx";
import { SettingsTable } from "./settings-table.tsx";

/** The most rules an organisation may have (the API answers 409 beyond it). */
const maxRules = 50;

/** Why a query cannot be saved (the log's search box says the same), or null. */
export function queryProblem(q: string): string | null {
  if (q.trim() === "") return "Enter a query, for example type:org.change_role.";
  const parsed = parseQuery(q, { limits: storedQueryLimits });
  return parsed.ok ? null : `${parsed.error.message} at position ${parsed.error.position}`;
}

function channelsText(rule: AlertRule): string {
  const names = [
    rule.channels.console ? "console" : null,
    rule.channels.email ? "email" : null,
    rule.channels.webhook ? "webhook" : null,
    rule.channels.slackUrlHint ? `Slack (…${rule.channels.slackUrlHint})` : null,
  ].filter(Boolean);
  return names.length > 0 ? names.join(", ") : "none";
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Settings › Alerts; `readOnly` (an auditor) lists the rules without a control that changes them. */
export function AlertsSection({
  org,
  readOnly = false,
}: {
  org: Organization;
  readOnly?: boolean;
}) {
  const query = useQuery(alertRulesOptions(org.slug));
  const { update, remove } = useAlertMutations(org.slug);
  const [editing, setEditing] = useState<AlertRule | "new" | null>(null);
  const [deleting, setDeleting] = useState<AlertRule | null>(null);
  const headingId = useId();

  if (query.isPending) return <SectionLoading label="Loading alert rules" />;
  if (query.isError) {
    return (
      <SectionLoadError
        what="the alert rules"
        error={query.error}
        onRetry={() => void query.refetch()}
      />
    );
  }
  const rules = query.data;
  // The delete's refusal is shown in its dialog, which stays open.
  const actionError = update.error;
  return (
    <section className="settings-section" aria-labelledby={headingId}>
      <div className="settings-card">
        <h2 id={headingId}>Alert rules</h2>
        <p className="muted">
          When a new entry matches a rule's query, its admins are told within seconds (the bell,
          email, the organisation's webhook, a Slack-compatible incoming webhook). Further matches
          within the rule's window are grouped into one message. Up to {maxRules} rules.
        </p>
        {rules.length === 0 ? (
          <p className="muted">No alert rules yet.</p>
        ) : (
          <SettingsTable
            wrapClassName="settings-table-wrap"
            className="settings-table"
            columns={["Name", "Query", "Channels", "Last fired"]}
            actions
          >
            {rules.map((rule) => (
              <tr key={rule.id}>
                <td>
                  {rule.name}
                  {rule.enabled ? null : <span className="muted small"> (disabled)</span>}
                </td>
                <td>
                  <code>{rule.q}</code>
                </td>
                <td>{channelsText(rule)}</td>
                <td>{rule.lastFiredAt ? dateTime.format(new Date(rule.lastFiredAt)) : "never"}</td>
                <td className="settings-actions">
                  {readOnly ? null : (
                    <>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => setEditing(rule)}
                        aria-label={`Edit ${rule.name}`}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        disabled={update.isPending}
                        onClick={() =>
                          update.mutate({ id: rule.id, update: { enabled: !rule.enabled } })
                        }
                        aria-label={`${rule.enabled ? "Disable" : "Enable"} ${rule.name}`}
                      >
                        {rule.enabled ? "Disable" : "Enable"}
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => {
                          remove.reset();
                          setDeleting(rule);
                        }}
                        aria-label={`Delete ${rule.name}`}
                      >
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </SettingsTable>
        )}
        <FormError message={actionError ? errorMessage(actionError) : null} />
        {editing === null && !readOnly ? (
          <button
            type="button"
            className="button button-primary"
            disabled={rules.length >= maxRules}
            onClick={() => setEditing("new")}
          >
            New alert rule
          </button>
        ) : null}
      </div>
      {deleting !== null && !readOnly ? (
        <ConfirmDialog
          title="Delete alert rule"
          question={
            <>
              Delete <strong>{deleting.name}</strong>? Its matches stop notifying anyone; the
              entries themselves stay in the log. Disable it instead to stop for a while.
            </>
          }
          confirmLabel="Delete rule"
          pendingLabel="Deleting…"
          pending={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate(deleting.id, { onSuccess: () => setDeleting(null) })}
          onClose={() => setDeleting(null)}
        />
      ) : null}
      {editing !== null && !readOnly ? (
        <AlertRuleForm
          key={editing === "new" ? "new" : editing.id}
          orgSlug={org.slug}
          rule={editing === "new" ? null : editing}
          onDone={() => setEditing(null)}
        />
      ) : null}
    </section>
  );
}

function AlertRuleForm({
  orgSlug,
  rule,
  onDone,
}: {
  orgSlug: string;
  rule: AlertRule | null;
  onDone: () => void;
}) {
  const { create, update } = useAlertMutations(orgSlug);
  const [name, setName] = useState(rule?.name ?? "");
  const [q, setQ] = useState(rule?.q ?? "");
  const [consoleChannel, setConsole] = useState(rule?.channels.console ?? true);
  const [email, setEmail] = useState(rule?.channels.email ?? false);
  const [webhook, setWebhook] = useState(rule?.channels.webhook ?? false);
  const [slackUrl, setSlackUrl] = useState("");
  const [removeSlack, setRemoveSlack] = useState(false);
  const [windowSeconds, setWindowSeconds] = useState(String(rule?.groupWindowSeconds ?? 300));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const id = useId();
  const mutation = rule ? update : create;
  const serverProblems: Record<string, string> = {};
  if (mutation.error instanceof ApiRequestError) {
    for (const detail of mutation.error.details) serverProblems[detail.path] = detail.message;
  }
  const problem = (field: string) => problems[field] ?? serverProblems[field];
  const generalError =
    mutation.error && Object.keys(serverProblems).length === 0
      ? errorMessage(mutation.error)
      : null;

  const field = (key: string, label: string) => ({
    id: `${id}-${key}`,
    "aria-invalid": problem(key) ? true : undefined,
    "aria-describedby": problem(key) ? `${id}-${key}-error` : undefined,
    label,
  });
  const errorOf = (key: string) => <FieldError id={`${id}-${key}-error`} message={problem(key)} />;

  return (
    <form
      className="settings-card"
      aria-labelledby={`${id}-title`}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const found: Record<string, string> = {};
        if (name.trim() === "") found.name = "Enter a name.";
        const qProblem = queryProblem(q);
        if (qProblem) found.q = qProblem;
        const seconds = Number(windowSeconds);
        if (!/^\d+$/.test(windowSeconds.trim()) || seconds > 86_400) {
          found.groupWindowSeconds = "Enter a whole number of seconds from 0 to 86,400.";
        }
        setProblems(found);
        if (Object.keys(found).length > 0) return;
        const slack = removeSlack ? null : slackUrl.trim() || undefined;
        const channels = {
          console: consoleChannel,
          email,
          webhook,
          ...(slack !== undefined ? { slackUrl: slack } : {}),
        };
        if (rule) {
          const change: UpdateAlertRule = {
            name: name.trim(),
            q,
            channels,
            groupWindowSeconds: seconds,
          };
          update.mutate({ id: rule.id, update: change }, { onSuccess: onDone });
        } else {
          const created: CreateAlertRule = {
            name: name.trim(),
            q,
            channels,
            groupWindowSeconds: seconds,
            enabled: true,
          };
          create.mutate(created, { onSuccess: onDone });
        }
      }}
    >
      <h2 id={`${id}-title`}>{rule ? `Edit “${rule.name}”` : "New alert rule"}</h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          {...withoutLabel(field("name", "Name"))}
          className="input"
          value={name}
          maxLength={100}
          onChange={(event) => setName(event.target.value)}
        />
        {errorOf("name")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-q`}>Query</label>
        <input
          {...withoutLabel(field("q", "Query"))}
          className="input"
          value={q}
          placeholder="type:org.sso.* -author:scim-bot"
          spellCheck={false}
          onChange={(event) => {
            setQ(event.target.value);
            setProblems(({ q: _q, ...rest }) => rest);
          }}
        />
        <span className="muted small">
          The search box's language; only new entries are matched.
        </span>
        {errorOf("q")}
      </div>
      <fieldset className="field">
        <legend>Tell</legend>
        <label>
          <input
            type="checkbox"
            checked={consoleChannel}
            onChange={(event) => setConsole(event.target.checked)}
          />{" "}
          Admins in the console (the bell)
        </label>
        <label>
          <input
            type="checkbox"
            checked={email}
            onChange={(event) => setEmail(event.target.checked)}
          />{" "}
          Admins by email
        </label>
        <label>
          <input
            type="checkbox"
            checked={webhook}
            onChange={(event) => setWebhook(event.target.checked)}
          />{" "}
          The organisation's webhook (alert.fired)
        </label>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-channels.slackUrl`}>Slack-compatible incoming webhook URL</label>
        <input
          {...withoutLabel(field("channels.slackUrl", "Slack URL"))}
          className="input"
          type="url"
          value={slackUrl}
          autoComplete="off"
          placeholder={
            rule?.channels.slackUrlHint
              ? `Saved (…${rule.channels.slackUrlHint}); enter a new one to replace it`
              : "https://hooks.slack.com/services/…"
          }
          disabled={removeSlack}
          onChange={(event) => setSlackUrl(event.target.value)}
        />
        {rule?.channels.slackUrlHint ? (
          <label>
            <input
              type="checkbox"
              checked={removeSlack}
              onChange={(event) => setRemoveSlack(event.target.checked)}
            />{" "}
            Remove the Slack URL
          </label>
        ) : null}
        {errorOf("channels.slackUrl")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-groupWindowSeconds`}>Group further matches for (seconds)</label>
        <input
          {...withoutLabel(field("groupWindowSeconds", "Window"))}
          className="input settings-days"
          type="number"
          inputMode="numeric"
          min={0}
          max={86_400}
          value={windowSeconds}
          onChange={(event) => setWindowSeconds(event.target.value)}
        />
        {errorOf("groupWindowSeconds")}
      </div>
      <FormError message={generalError} />
      <div className="settings-inline">
        <button type="submit" className="button button-primary" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : rule ? "Save rule" : "Create rule"}
        </button>
        <button type="button" className="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The input's attributes (the label is rendered by the caller, tied by id). */
function withoutLabel<T extends { label: string }>(props: T): Omit<T, "label"> {
  const { label: _label, ...rest } = props;
  return rest;
}
