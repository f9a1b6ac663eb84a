import { type AuditEntry, type Category, categoryLabels, isPublicHttpsUrl } from "@auditlog/events";
import { useState } from "react";
import { locationLabel } from "../../lib/country-name.ts";
import { formatFullTimestamp, formatRelative, formatShort } from "../../lib/format-time.ts";
import { useTimeZone } from "../../lib/time-zone.ts";

/** In the declared zone, which the Time column's header names. */
export function TimeCell({ iso, now }: { iso: string; now: number }) {
  const { timeZone } = useTimeZone();
  return (
    <time className="cell-time" dateTime={iso} title={formatFullTimestamp(iso, timeZone)}>
      <span className="cell-primary">{formatShort(iso, now, timeZone)}</span>
      <span className="cell-secondary">{formatRelative(iso, now)}</span>
    </time>
  );
}

export function actorKindLabel(actor: AuditEntry["actor"]): string {
  if (actor.type === "token") {
    const parts = ["token"];
    if (actor.tokenLast4) parts.push(`…${actor.tokenLast4}`);
    if (actor.tokenRole) parts.push(`(${actor.tokenRole})`);
    return parts.join(" ");
  }
  return actor.type;
}

function initials(name: string): string {
  const words = name
    .replace(/[^\p{L}\p{N}\s._-]/gu, "")
    .split(/[\s._-]+/)
    .filter(Boolean);
  return ((words[0]?.[0] ?? "?") + (words[1]?.[0] ?? "")).toUpperCase();
}

function hue(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % 360;
  return hash;
}

export function Avatar({ actor, size = 28 }: { actor: AuditEntry["actor"]; size?: number }) {
  const [failed, setFailed] = useState(false);
  // Entries stored before ingestion refused other addresses may still hold one: never load a
  // `javascript:`, `data:` or internal address in an admin's browser.
  if (actor.avatarUrl && isPublicHttpsUrl(actor.avatarUrl) && !failed) {
    return (
      <img
        className="avatar"
        src={actor.avatarUrl}
        alt=""
        width={size}
        height={size}
        loading="lazy"
        referrerPolicy="no-referrer"
        onError={() => setFailed(true)}
      />
    );
  }
  return (
    <span
      className={`avatar avatar-fallback avatar-${actor.type}`}
      style={{ width: size, height: size, ["--avatar-hue" as string]: hue(actor.id) }}
      aria-hidden="true"
    >
      {actor.type === "system" ? "⚙" : initials(actor.name)}
    </span>
  );
}

export function ActorCell({ actor }: { actor: AuditEntry["actor"] }) {
  return (
    <span className="cell-actor">
      <Avatar actor={actor} />
      <span className="cell-stack">
        <span className="cell-primary" title={actor.id}>
          {actor.name}
        </span>
        <span className="cell-secondary">{actorKindLabel(actor)}</span>
      </span>
    </span>
  );
}

export function TypeBadge({ type, category }: { type: string; category: Category }) {
  return (
    <span className={`badge badge-${category}`} title={`${categoryLabels[category]}: ${type}`}>
      {type}
    </span>
  );
}

export function LocationCell({ entry }: { entry: AuditEntry }) {
  return (
    <span className="cell-stack">
      <span className="cell-primary">{locationLabel(entry.location) || "Unknown location"}</span>
      <span className="cell-secondary mono" title="Anonymised IP address">
        {entry.ip ?? "no IP"}
      </span>
    </span>
  );
}
