import { z } from "zod";
import {
  type ExportStorage,
  type ExportStorageConfig,
  exportStorageKinds,
} from "./export-storage.ts";
import { defaultExportStorageDir, LocalExportStorage } from "./local-export-storage.ts";

export function createExportStorage(config: ExportStorageConfig): ExportStorage {
  switch (config.kind) {
    case "local":
      return new LocalExportStorage(config.dir || defaultExportStorageDir);
  }
}

/** The settings every process that reads or writes export files needs (API and worker alike). */
export const exportStorageEnv = {
  /** Where export files live; only `local` (a directory every API and worker shares) so far. */
  EXPORT_STORAGE: z.enum(exportStorageKinds).default("local"),
  /** Local storage's directory; empty means `<repo root>/.data/exports`. */
  EXPORT_STORAGE_DIR: z.string().default(""),
};

export function exportStorageFromEnv(env: {
  EXPORT_STORAGE: ExportStorageConfig["kind"];
  EXPORT_STORAGE_DIR: string;
}): ExportStorage {
  return createExportStorage({ kind: env.EXPORT_STORAGE, dir: env.EXPORT_STORAGE_DIR });
}
