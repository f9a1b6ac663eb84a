export { exportWorkerNodeOptions } from "./deployment.ts";
export { loadWorkerEnv } from "./env.ts";
export { anonymizeIp, toMappedIpv4 } from "./geo/anonymize-ip.ts";
export { noGeolocation, openGeolocator } from "./geo/geolocate.ts";
export { buildEntries } from "./ingest/build-entries.ts";
export * from "./notifications/index.ts";
export { startWorker } from "./start-worker.ts";
