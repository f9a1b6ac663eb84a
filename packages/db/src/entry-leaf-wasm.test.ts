import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  compileEntryLeafBytes,
  generatedModule,
  generatedModuleText,
} from "./entry-leaf-wasm-build.ts";

describe("the byte path's WebAssembly", () => {
  it("is what assembly/entry-leaf-bytes.ts compiles to (run `pnpm --filter @auditlog/db wasm:build` after a change)", async () => {
    const binary = await compileEntryLeafBytes();
    expect(readFileSync(generatedModule, "utf8")).toBe(generatedModuleText(binary));
  });
});
