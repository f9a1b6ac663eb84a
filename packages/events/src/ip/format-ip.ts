/**
 * The RFC 5952 §4 text of eight 16-bit groups: lower-case hex without leading zeros, the longest
 * run of two or more zero groups written `::` (the first one on a tie), a lone zero group kept.
 * This is the form the WHATWG URL parser prints, so IPv4-mapped addresses come out in hex
 * (`::ffff:102:304`) rather than RFC 5952 §5's dotted form.
 */
export function formatIpv6(groups: readonly number[]): string {
  if (groups.length !== 8)
    throw new RangeError(`An IPv6 address has 8 groups, not ${groups.length}`);
  let runStart = -1;
  let runLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > runLength) {
      runStart = i;
      runLength = j - i;
    }
    i = j;
  }
  let text = "";
  let separator = "";
  for (let i = 0; i < 8; i++) {
    if (i === runStart) {
      text += "::";
      separator = "";
      i += runLength - 1;
      continue;
    }
    text += separator + (groups[i] as number).toString(16);
    separator = ":";
  }
  return text;
}
