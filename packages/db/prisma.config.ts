import { defineConfig } from "prisma/config";

// Only `prisma generate` runs here; migrations are applied by dbmate (src/migrate.ts).
export default defineConfig({
  schema: "prisma/schema.prisma",
});
