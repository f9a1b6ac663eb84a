/**
 * Prefixed ids (`evt_`, `org_`, `usr_`, `key_`, `exp_`) whose 24 hex digits are shaped like a
 * MongoDB ObjectId (4 bytes of seconds, then 8 random bytes): they sort roughly by creation time
 * and the hex part doubles as the Hub export's `_id`.
 */
export type IdPrefix = "evt" | "org" | "usr" | "key" | "exp" | "ntf" | "ses" | "pat";

export function newId(prefix: IdPrefix, now: Date = new Date()): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes.subarray(4));
  const seconds = Math.floor(now.getTime() / 1000);
  bytes[0] = (seconds >>> 24) & 0xff;
  bytes[1] = (seconds >>> 16) & 0xff;
  bytes[2] = (seconds >>> 8) & 0xff;
  bytes[3] = seconds & 0xff;
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return `${prefix}_${hex}`;
}
