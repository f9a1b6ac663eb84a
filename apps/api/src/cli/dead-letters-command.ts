import type { DeadLetter } from "@auditlog/events";
import type { ReplayOutcome } from "../dead-letters/dead-letter-replay.ts";

export const deadLettersUsage = `  pnpm auditlog dead-letters list --org <slug> [--limit <n>] [--json]
  pnpm auditlog dead-letters replay --org <slug> [--id <dead letter id> …] [--json]`;

/** One line per dead letter, newest first: id, when, type, state, reason. */
export function describeDeadLetters(slug: string, letters: readonly DeadLetter[]): string {
  if (letters.length === 0) return `${slug} has no dead letters`;
  return letters
    .map((letter) => {
      const state = letter.replayedAt
        ? `replayed ${letter.replayedAt} as ${letter.replayedEventId}`
        : "not replayed";
      return `${letter.id}  ${letter.createdAt}  ${letter.eventType ?? "(no type)"}  ${state}\n    ${letter.reason}`;
    })
    .join("\n");
}

/** What a replay did to each dead letter, and a count; the still refused say why. */
export function describeReplay(slug: string, outcomes: readonly ReplayOutcome[]): string {
  const lines = outcomes.map((outcome) => {
    switch (outcome.status) {
      case "replayed":
        return `${outcome.id}  queued again as ${outcome.eventId}`;
      case "raced":
        return `${outcome.id}  queued again as ${outcome.eventId} (another replay marked it first; stored once)`;
      case "already_replayed":
        return `${outcome.id}  already replayed as ${outcome.eventId ?? "?"}: nothing queued`;
      case "still_invalid":
        return `${outcome.id}  still refused, left as it is: ${outcome.reason}`;
      case "not_found":
        return `${outcome.id}  not a dead letter of ${slug}`;
    }
  });
  const replayed = outcomes.filter((o) => o.status === "replayed" || o.status === "raced").length;
  const refused = outcomes.filter((o) => o.status === "still_invalid").length;
  lines.push(
    `${slug}: ${replayed} dead letter(s) queued again, ${refused} still refused (fix the cause, then replay them)`,
  );
  return lines.join("\n");
}
