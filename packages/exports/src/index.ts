export * from "./files.ts";
export * from "./formats/csv.ts";
export * from "./formats/entry-lines.ts";
export * from "./formats/hub-export.ts";
export * from "./formats/serializers.ts";
export * from "./storage/create-export-storage.ts";
export * from "./storage/export-storage.ts";
export * from "./write-export-file.ts";
