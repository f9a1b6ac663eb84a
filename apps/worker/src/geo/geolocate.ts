import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { Reader, type Response } from "mmdb-lib";
import { toMappedIpv4 } from "./anonymize-ip.ts";

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

export function openGeolocator(paths: { ipv4: string; ipv6: string }): Geolocator {
  const ipv4 = paths.ipv4 ? new Reader<Response>(readFileSync(paths.ipv4)) : null;
  const ipv6 = paths.ipv6 ? new Reader<Response>(readFileSync(paths.ipv6)) : null;
  return {
    locate(ip) {
      const address = toMappedIpv4(ip) ?? ip;
      const reader = isIPv4(address) ? ipv4 : ipv6;
      if (!reader) return null;
      let record: CityRecord | null;
      try {
        record = reader.get(address) as CityRecord | null;
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
