/**
 * Event ids as the API makes them (`evt_` and 24 hex digits: 4 bytes of seconds, then 8 random
 * bytes), generated here when an event is recorded: every attempt to send it carries the same id,
 * and the API stores an id once, so a retry after a lost answer stores nothing twice. The same
 * shape as `newId("evt")` in packages/events, written again because the client imports nothing
 * from the workspace at run time.
 */
const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export function newEventId(now: Date = new Date()): string {
  const seconds = Math.floor(now.getTime() / 1000);
  const random = new Uint8Array(8);
  crypto.getRandomValues(random);
  let id = "evt_";
  for (const shift of [24, 16, 8, 0]) id += hex[(seconds >>> shift) & 0xff];
  for (const byte of random) id += hex[byte];
  return id;
}
