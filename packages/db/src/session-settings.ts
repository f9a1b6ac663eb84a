/**
 * Settings every connection of ours asks for at start-up (libpq's `options`).
 *
 * `jit=off`: PostgreSQL compiles a statement with LLVM once its estimated cost passes
 * `jit_above_cost` (100,000 by default). Our statements are index walks over one organisation's
 * `seq` or time range, or streaming COPYs, and their estimates grow with the tables, not with
 * the work: the checkpoint builder's read of 30 organisations' new entries was estimated at
 * 347,000 and spent 695 ms compiling for 0.1 ms of execution once a partition had seen a large
 * organisation (ingest spread over 1,000 organisations fell from 19,720 to 4,200 events/s, with
 * 371 µs of PostgreSQL CPU per event). Streaming exports and verify's reads were also faster
 * without it (150,000 entries: 2.2 s against 2.9–4.5 s). So no statement of ours is compiled.
 */
export const postgresStartupOptions = "-c jit=off";
