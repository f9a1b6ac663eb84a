import { migrateDatabase } from "./migrate.ts";

// The operator's entry point (`pnpm db:migrate`); the URL comes from the environment like every
// app's. Kept out of the library so importing @auditlog/db never reads process.env.
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/auditlog";
await migrateDatabase(databaseUrl);
console.log(`migrated ${new URL(databaseUrl).pathname.slice(1)}`);
