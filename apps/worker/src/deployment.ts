import { getPriority, setPriority } from "node:os";

/**
 * Node options for a worker process that only builds exports (`WORKER_ROLES=exports`), set as
 * `NODE_OPTIONS`. An export moves hundreds of MB through 64 KiB Buffers whose memory is freed
 * only when V8 collects their handles; with the default 16 MiB semi-spaces the young generation
 * lets about 80 MB of them pile up between collections, and a 1 MiB one keeps the peak within
 * about 20 MB of idle at no measurable cost in speed (measured by `pnpm bench`). Ingest workers keep
 * the default: their many short-lived objects are cheaper to collect in a larger young generation.
 */
export const exportWorkerNodeOptions = "--max-semi-space-size=1";

/**
 * Raises this process's niceness to `target` (never lowers it: that needs privileges, and an
 * operator who set a higher one meant it). A system that refuses leaves the worker running as
 * it was. Returns the niceness the process ends with.
 */
export function raiseNiceness(
  target: number,
  os: { getPriority(): number; setPriority(priority: number): void } = {
    getPriority: () => getPriority(),
    setPriority: (priority) => setPriority(priority),
  },
): number {
  const current = os.getPriority();
  if (target <= current) return current;
  try {
    os.setPriority(target);
  } catch {
    return current;
  }
  return os.getPriority();
}
