import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { mappedIpv4Octets, parseIp } from "@auditlog/events/ip";
import { Reader, type Response } from "mmdb-lib";
import { treeLookup } from "./mmdb-tree.ts";

export interface GeoLocation {
  countryCode: string | null;
  region: string | null;
  city: string | null;
}

/** The record layout of ip-location-db's city databases; MaxMind's own layout is read too. */
interface CityRecord {
  country_code?: string;
  state1?: string;
  city?: string | { names?: Record<string, string> };
  country?: { iso_code?: string };
  subdivisions?: { names?: Record<string, string> }[];
}

export interface Geolocator {
  /** Looks up the FULL address; callers must truncate it afterwards. */
  locate(ip: string): GeoLocation | null;
}

export const noGeolocation: Geolocator = { locate: () => null };

/**
 * Decoded records by their offset in the database, least recently added dropped first. Finding
 * an address in the tree is cheap; decoding its record into objects and strings was most of the
 * geolocation's 7% of the ingest worker's time, and busy addresses share few records. Keyed by
 * offset, a cached answer is exactly what decoding would give.
 */
export function boundedRecordCache(maxEntries: number) {
  const records = new Map<number, unknown>();
  return {
    get: (offset: number) => records.get(offset),
    set: (offset: number, record: unknown) => {
      if (records.size >= maxEntries) {
        const oldest = records.keys().next();
        if (!oldest.done) records.delete(oldest.value);
      }
      records.set(offset, record);
    },
    get size() {
      return records.size;
    },
  };
}

export function openGeolocator(
  paths: { ipv4: string; ipv6: string },
  /** `treeWalk: false`: every lookup through mmdb-lib's `get` (the tests' reference). */
  options: { cacheEntries?: number; treeWalk?: boolean } = {},
): Geolocator {
  const cacheEntries = options.cacheEntries ?? 20_000;
  const open = (path: string) => {
    if (!path) return null;
    const db = readFileSync(path);
    const reader = new Reader<Response>(
      db,
      cacheEntries > 0 ? { cache: boundedRecordCache(cacheEntries) } : {},
    );
    return { reader, walk: options.treeWalk === false ? null : treeLookup(db, reader) };
  };
  const ipv4 = open(paths.ipv4);
  const ipv6 = open(paths.ipv6);
  return {
    locate(ip) {
      // What is looked up where: an IPv4 address (or the one an IPv4-mapped address carries)
      // in the IPv4 database, anything else in the IPv6 one (mmdb-lib refuses what is no address).
      let record: CityRecord | null;
      try {
        if (isIPv4(ip)) {
          if (!ipv4) return null;
          record = (ipv4.walk ? ipv4.walk.ipv4(ip) : ipv4.reader.get(ip)) as CityRecord | null;
        } else {
          const parsed = parseIp(ip);
          const octets = parsed?.family === 6 ? mappedIpv4Octets(parsed) : null;
          if (octets) {
            if (!ipv4) return null;
            const mapped = octets.join(".");
            record = (
              ipv4.walk ? ipv4.walk.ipv4(mapped) : ipv4.reader.get(mapped)
            ) as CityRecord | null;
          } else {
            if (!ipv6) return null;
            // A zone (`%eth0`) is read by mmdb-lib's own parse, whatever it makes of it.
            record = (
              ipv6.walk && parsed?.family === 6 && parsed.zone === undefined
                ? ipv6.walk.ipv6(parsed.groups)
                : ipv6.reader.get(ip)
            ) as CityRecord | null;
          }
        }
      } catch {
        return null;
      }
      if (!record) return null;
      const countryCode = record.country_code ?? record.country?.iso_code ?? null;
      const region = record.state1 ?? record.subdivisions?.[0]?.names?.en ?? null;
      const city = typeof record.city === "string" ? record.city : (record.city?.names?.en ?? null);
      if (!countryCode && !region && !city) return null;
      return { countryCode, region: region || null, city: city || null };
    },
  };
}
