/**
 * Node options for a worker process that only builds exports (`WORKER_ROLES=exports`), set as
 * `NODE_OPTIONS`. An export moves hundreds of MB through 64 KiB Buffers whose memory is freed
 * only when V8 collects their handles; with the default 16 MiB semi-spaces the young generation
 * lets about 80 MB of them pile up between collections, and a 1 MiB one keeps the peak within
 * about 20 MB of idle at no measurable cost in speed (measured by `pnpm bench`). Ingest workers keep
 * the default: their many short-lived objects are cheaper to collect in a larger young generation.
 */
export const exportWorkerNodeOptions = "--max-semi-space-size=1";
