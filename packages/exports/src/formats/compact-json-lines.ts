import { Transform, type TransformCallback } from "node:stream";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

/**
 * Drops every space outside JSON strings from a stream of JSON lines: jsonb's text writes `": "`
 * and `", "` between members, JSON.stringify writes neither, and PostgreSQL has no compact
 * output for jsonb (its regular expressions cost it about ten times what this loop costs here).
 * Only for lines whose every space outside strings is such a separator: the Hub export's, built
 * compact but for `data`. Strings (their escapes included) pass unchanged; a string, or an escape,
 * may be cut across chunks.
 */
export class CompactJsonLines extends Transform {
  private inString = false;
  private escaped = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    const out = Buffer.allocUnsafe(chunk.length);
    let w = 0;
    let inString = this.inString;
    let escaped = this.escaped;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) {
        inString = true;
      } else if (b === SPACE) {
        continue;
      }
      out[w++] = b;
    }
    this.inString = inString;
    this.escaped = escaped;
    callback(null, w === 0 ? undefined : out.subarray(0, w));
  }
}
