import {
  type AlertFiring,
  type AlertRuleRow,
  type Database,
  evaluateAlertRules,
  findOrgSlug,
  findOrgsWithDueAlertRules,
  listOrgsWithEnabledAlertRules,
} from "@auditlog/db";
import {
  entriesStoredMessageSchema,
  type ParsedQuery,
  parseQuery,
  realtimeChannels,
  storedQueryLimits,
} from "@auditlog/events";
import { type NotifySlackJob, producerFor } from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import { createRedisConnection, type RedisSettings } from "@auditlog/redis";
import type { Queue } from "bullmq";
import type { AdminNotifier } from "../notifications/admin-notifier.ts";
import { renderAlert } from "./alert-messages.ts";

export interface AlertEngineDeps {
  db: Database;
  /** For the engine's own subscriber connection (a subscribed connection can do nothing else). */
  redis: RedisSettings;
  /** Tells the admins (console, email) and the org webhook. */
  notifyOrgAdmins: AdminNotifier;
  /** The notifications queue: Slack messages are jobs on it (retried with backoff). */
  notifyQueue: Queue;
  retryBaseMs: number;
  logger: Logger;
  /** The safety-net poll (wake-ups are best effort) and the end of grouping windows. */
  pollIntervalMs: number;
  /** Seqs one rule's evaluation reads at most per pass. */
  scanLimit: number;
  /** PUBLIC_URL: makes the Slack link absolute ("" leaves the console path as text). */
  consoleUrl: string;
  /** Organisations evaluated at once. */
  concurrency?: number;
}

/** A rule's query, parsed once per text (rules are few, their texts rarely change). */
function createQueryCache() {
  const cache = new Map<string, ParsedQuery | null>();
  return (text: string): ParsedQuery | null => {
    let parsed = cache.get(text);
    if (parsed === undefined) {
      const result = parseQuery(text, { limits: storedQueryLimits });
      parsed = result.ok ? result.query : null;
      if (cache.size > 10_000) cache.clear();
      cache.set(text, parsed);
    }
    return parsed;
  };
}

/**
 * The alerts role: evaluates organisations' alert rules against their new entries. It wakes on
 * `realtimeChannels.entriesStored` (published after every committed write) and polls every
 * `pollIntervalMs` as a safety net and to end grouping windows. Each organisation is evaluated
 * by one pass at a time in this process; several processes split the rules between them
 * (`FOR UPDATE SKIP LOCKED` in `evaluateAlertRules`), so a rule never fires twice for the same
 * entries except after a crash between sending and committing (at least once).
 */
export async function startAlertEngine(deps: AlertEngineDeps) {
  const { logger } = deps;
  const parse = createQueryCache();
  const slack = producerFor(deps.notifyQueue, "notifications");
  const concurrency = deps.concurrency ?? 2;
  /** Organisations to evaluate; `running` ones are re-queued when woken meanwhile. */
  const pending = new Set<string>();
  const running = new Set<string>();
  let active = 0;
  let closed = false;
  const idle: Array<() => void> = [];

  const dispatch = async (
    orgSlugOf: () => Promise<string>,
    rule: AlertRuleRow,
    firings: AlertFiring[],
  ) => {
    const orgSlug = await orgSlugOf();
    for (const firing of firings) {
      const now = new Date();
      const rendered = renderAlert({ rule, orgSlug, firing, consoleUrl: deps.consoleUrl, now });
      await deps.notifyOrgAdmins({
        orgId: rule.orgId,
        kind: "alert.fired",
        title: rendered.title,
        body: rendered.body,
        subjectId: rule.id,
        link: rendered.link,
        noticeId: firing.messageId,
        channels: { console: rule.notifyConsole, email: rule.notifyEmail },
        ...(rule.notifyWebhook ? { webhookPayload: rendered.webhookPayload } : {}),
      });
      if (rule.slackUrlSealed) {
        const job: NotifySlackJob = {
          messageId: firing.messageId,
          orgId: rule.orgId,
          ruleId: rule.id,
          text: rendered.slackText,
        };
        await slack.add("notify.slack", job, {
          jobId: `slack-${firing.messageId}`,
          backoffDelayMs: deps.retryBaseMs,
        });
      }
      logger.info("alert fired", {
        ruleId: rule.id,
        orgId: rule.orgId,
        kind: firing.kind,
        matched: firing.matched,
      });
    }
  };

  const evaluateOrg = async (orgId: string) => {
    let slug: string | undefined;
    const orgSlugOf = async () => {
      if (slug === undefined) {
        slug = (await findOrgSlug(deps.db, orgId)) ?? orgId;
      }
      return slug;
    };
    const results = await evaluateAlertRules(deps.db, {
      orgId,
      parse,
      scanLimit: deps.scanLimit,
      dispatch: (rule, firings) => dispatch(orgSlugOf, rule, firings),
    });
    // A bounded pass left entries behind: go on at once rather than at the next wake-up.
    if (results.some((result) => result.behind)) pending.add(orgId);
  };

  const pump = () => {
    while (!closed && active < concurrency) {
      const next = [...pending].find((orgId) => !running.has(orgId));
      if (!next) break;
      pending.delete(next);
      running.add(next);
      active += 1;
      evaluateOrg(next)
        .catch((error) => {
          logger.error("alert evaluation failed", {
            orgId: next,
            error: (error as Error).message,
          });
        })
        .finally(() => {
          running.delete(next);
          active -= 1;
          if (active === 0 && pending.size === 0) for (const resolve of idle.splice(0)) resolve();
          pump();
        });
    }
  };
  const wake = (orgId: string) => {
    if (closed) return;
    pending.add(orgId);
    pump();
  };

  // Organisations with an enabled rule, as of the last poll: a stored-entries message about any
  // other (nearly every write, on a busy deployment) costs no query. A rule created since is
  // found by the poll itself, one interval later at most.
  let orgsWithRules = new Set<string>();
  const poll = async () => {
    try {
      orgsWithRules = new Set(await listOrgsWithEnabledAlertRules(deps.db));
      for (const orgId of await findOrgsWithDueAlertRules(deps.db)) wake(orgId);
    } catch (error) {
      logger.warn("alert poll failed", { error: (error as Error).message });
    }
  };

  // Its own connection: a subscribed ioredis connection can issue no other command.
  const subscriber = createRedisConnection(deps.redis, "subscriber", {
    connectionName: "auditlog-alerts",
  });
  subscriber.on("error", (error) =>
    logger.warn("alert subscriber error", { error: error.message }),
  );
  subscriber.on("message", (_channel, text) => {
    try {
      const message = entriesStoredMessageSchema.parse(JSON.parse(text));
      if (orgsWithRules.has(message.orgId)) wake(message.orgId);
    } catch {
      // Not ours to judge: the poll catches up with whatever a bad message meant.
    }
  });
  await subscriber.subscribe(realtimeChannels.entriesStored);
  const timer = setInterval(() => void poll(), deps.pollIntervalMs);
  void poll();
  logger.info("alert engine started", {
    pollIntervalMs: deps.pollIntervalMs,
    scanLimit: deps.scanLimit,
  });

  let closing: Promise<void> | undefined;
  return {
    /** Evaluates an organisation now (tests, and the CLI). */
    wake,
    close: () => {
      closing ??= (async () => {
        closed = true;
        clearInterval(timer);
        subscriber.disconnect();
        pending.clear();
        if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
      })();
      return closing;
    },
  };
}

export type AlertEngine = Awaited<ReturnType<typeof startAlertEngine>>;
