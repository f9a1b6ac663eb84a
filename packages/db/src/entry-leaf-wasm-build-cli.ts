import { writeFileSync } from "node:fs";
import {
  compileEntryLeafBytes,
  generatedModule,
  generatedModuleText,
} from "./entry-leaf-wasm-build.ts";

const binary = await compileEntryLeafBytes();
writeFileSync(generatedModule, generatedModuleText(binary));
console.log(`wrote ${generatedModule} (${binary.length} bytes of WebAssembly)`);
