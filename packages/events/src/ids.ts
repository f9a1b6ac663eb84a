/**
 * Prefixed ids (`evt_`, `org_`, `usr_`, `key_`, `exp_`) whose 24 hex digits are shaped like a
 * MongoDB ObjectId (4 bytes of seconds, then 8 random bytes): they sort roughly by creation time
 * and the hex part doubles as the Hub export's `_id`.
 */
export type IdPrefix =
  | "evt"
  | "org"
  | "usr"
  | "key"
  | "exp"
  | "ntf"
  | "ses"
  | "pat"
  | "vw"
  | "era"
  | "str"
  | "alr"
  | "msg"
  | "vwl";

/** Random bytes drawn in blocks: one `getRandomValues` call per 512 ids instead of one each. */
const randomPool = new Uint8Array(4096);
let randomOffset = randomPool.length;
const hexBytes = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
const hexByte = (byte: number) => hexBytes[byte & 0xff] as string;

export function newId(prefix: IdPrefix, now: Date = new Date()): string {
  if (randomOffset + 8 > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomOffset = 0;
  }
  const seconds = Math.floor(now.getTime() / 1000);
  let hex =
    hexByte(seconds >>> 24) + hexByte(seconds >>> 16) + hexByte(seconds >>> 8) + hexByte(seconds);
  for (let i = 0; i < 8; i++) hex += hexByte(randomPool[randomOffset + i] as number);
  // Each byte is used once: no two ids share their random part.
  randomOffset += 8;
  return `${prefix}_${hex}`;
}
