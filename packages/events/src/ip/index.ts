export { isLinkLocalOrMetadataAddress, isNonPublicAddress } from "./address-class.ts";
export { anonymizeIp } from "./anonymize-ip.ts";
export { formatIpv6 } from "./format-ip.ts";
export { normalizeIpPrefix } from "./ip-prefix.ts";
export { loginAddressBucket } from "./login-address-bucket.ts";
export { mappedIpv4Octets, toMappedIpv4 } from "./mapped-ipv4.ts";
export {
  type IpAddress,
  type Ipv4Address,
  type Ipv4Octets,
  type Ipv6Address,
  parseIp,
} from "./parse-ip.ts";
