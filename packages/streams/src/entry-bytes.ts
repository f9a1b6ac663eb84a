import type { StreamEntry } from "@auditlog/events";

// Why a cache keyed by the entry object: the worker's shared read hands the very same entry
// objects to every stream of an organisation, so ten streams sending one entry encoded its JSON
// text to UTF-8 ten times (and, joined into one string per batch first, copied it twice more).
// Encoded once here, each sender copies the bytes into its body instead. Weak: an entry's bytes
// live as long as the entry does (held by the shared read's chunk, or by a batch in flight).
const encoded = new WeakMap<StreamEntry, Buffer>();

/** The entry's JSON text as UTF-8, encoded once per entry object. */
export function entryJsonBytes(entry: StreamEntry): Buffer {
  let bytes = encoded.get(entry);
  if (bytes === undefined) {
    bytes = Buffer.from(entry.json, "utf8");
    encoded.set(entry, bytes);
  }
  return bytes;
}

/**
 * `prefix`, the entries' JSON bytes separated by `separator`, and `suffix`, in one buffer: one
 * copy of each entry's (already encoded) bytes, no intermediate string.
 */
export function spliceEntryBytes(
  prefix: string,
  entries: readonly StreamEntry[],
  separator: number,
  suffix: string,
): Buffer {
  const parts = entries.map(entryJsonBytes);
  let length = Buffer.byteLength(prefix) + Buffer.byteLength(suffix);
  for (const part of parts) length += part.length;
  length += Math.max(parts.length - 1, 0);
  const body = Buffer.allocUnsafe(length);
  let at = body.write(prefix, 0, "utf8");
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) body[at++] = separator;
    const part = parts[i] as Buffer;
    body.set(part, at);
    at += part.length;
  }
  at += body.write(suffix, at, "utf8");
  if (at !== length) throw new Error(`spliced ${at} bytes of ${length}`);
  return body;
}
