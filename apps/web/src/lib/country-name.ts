import type { AuditEntry } from "@auditlog/events";

const regionNames =
  typeof Intl.DisplayNames === "function"
    ? new Intl.DisplayNames(undefined, { type: "region", fallback: "code" })
    : null;

/** "France" for "FR", in the reader's language; the code itself when the browser has no name. */
export function countryName(code: string): string {
  try {
    return regionNames?.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** "Paris, Île-de-France, France": the stored parts, the country by name. */
export function locationLabel(location: AuditEntry["location"]): string {
  if (!location) return "";
  const parts = [
    location.city,
    location.region,
    location.countryCode && countryName(location.countryCode),
  ];
  return parts.filter(Boolean).join(", ") || location.formatted;
}
