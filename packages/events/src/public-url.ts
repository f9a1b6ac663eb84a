/**
 * Names that only ever resolve inside a network (RFC 6761 `localhost`, RFC 6762 `local`, RFC
 * 8375 `home.arpa`, ICANN's reserved `internal`), with the trailing dot a name may carry.
 */
const privateName = /(?:^|\.)(localhost|local|internal|home\.arpa)\.?$/;

/** A dotted IPv4 address: what the URL parser makes of every numeric host (`2130706433`, `0x7f.1`). */
const ipv4Host = /^\d{1,3}(\.\d{1,3}){3}\.?$/;

/**
 * Why `text` is not an address every admin's browser may be sent to fetch (an avatar), or
 * undefined when it is one: an https URL, without credentials, whose host is a public DNS name.
 * Any IP literal is refused, not only internal ones: an avatar is served under a name, and a
 * literal is the one way to point browsers at 127.0.0.1, 169.254.169.254 or 10.0.0.1 without a
 * DNS lookup. Names are not resolved (the browser resolves them, not this service), so a public
 * name pointing inside a network is out of reach; the names that can only mean a private
 * network (single labels, `localhost`, `.local`, `.internal`, `.home.arpa`) are refused.
 */
export function publicHttpsUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an https URL";
  }
  if (url.protocol !== "https:") return "must be an https URL";
  // Credentials need an `@`: most URLs spare the two lookups.
  if (text.includes("@") && (url.username !== "" || url.password !== "")) {
    return "must not carry a user name or password";
  }
  const host = url.hostname;
  if (host.startsWith("[") || ipv4Host.test(host)) return "must name its host, not an IP address";
  const privateSuffix = privateName.exec(host)?.[1];
  if (privateSuffix) return `must name a public host (.${privateSuffix} names are private)`;
  if (!host.slice(0, -1).includes(".")) {
    return "must name a public host (a single-label name is not one)";
  }
  return undefined;
}

/** Whether a stored URL may be shown as an image: the same rule, for entries stored before it. */
export function isPublicHttpsUrl(text: string): boolean {
  return publicHttpsUrlProblem(text) === undefined;
}
