import {
  type ExportManifest,
  type ExportManifestBody,
  exportManifestBodySchema,
  exportManifestSchema,
} from "@auditlog/events";
import {
  canonicalJson,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  signNote,
} from "@auditlog/tlog";

// An export's manifest is signed as a C2SP signed note with the checkpoint key: the note's text
// is the RFC 8785 canonical JSON of the manifest's members (all but `signature`) and a newline,
// so any tool that reads the log's checkpoints (Go's sumdb/note included) can open it, and the
// text it opens is the manifest itself.

export class ManifestError extends Error {
  override name = "ManifestError";
}

/** The text the manifest's note signs: canonical JSON of its body and a newline. */
export function manifestNoteText(body: ExportManifestBody): string {
  return `${canonicalJson(body)}\n`;
}

export function signExportManifest(body: ExportManifestBody, signer: NoteSigner): ExportManifest {
  const checked = exportManifestBodySchema.parse(body);
  return { ...checked, signature: signNote(manifestNoteText(checked), signer) };
}

/**
 * Opens a manifest (the JSON of `GET …/exports/:id/manifest`): its signature must verify with
 * one of `verifiers`, and every member beside it must be exactly what the note signs. Answers
 * the signed body and the keys that signed it.
 */
export function openExportManifest(
  manifest: unknown,
  verifiers: readonly (NoteVerifier | string)[],
): { body: ExportManifestBody; signedBy: { name: string; keyId: string }[] } {
  const parsed = exportManifestSchema.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(
      `not an export manifest: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  const { signature, ...body } = parsed.data;
  let opened: ReturnType<typeof openNote>;
  try {
    opened = openNote(signature, verifiers);
  } catch (error) {
    throw new ManifestError(
      `the manifest's signature does not verify: ${(error as Error).message}`,
    );
  }
  let signed: ExportManifestBody;
  try {
    signed = exportManifestBodySchema.parse(JSON.parse(opened.text));
  } catch {
    throw new ManifestError("the manifest's signed text is not a manifest");
  }
  if (opened.text !== manifestNoteText(body)) {
    const changed = Object.keys(signed).filter(
      (key) =>
        canonicalJson((signed as Record<string, unknown>)[key]) !==
        canonicalJson((body as Record<string, unknown>)[key]),
    );
    throw new ManifestError(
      `the manifest differs from what its signature signs${changed.length > 0 ? ` (${changed.join(", ")})` : ""}`,
    );
  }
  return { body: signed, signedBy: opened.signatures };
}
