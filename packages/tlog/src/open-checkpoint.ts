import { CheckpointError, type ParsedCheckpoint, parseCheckpoint } from "./checkpoint.ts";
import { type NoteVerifier, openNote } from "./note.ts";

/**
 * Opens a signed checkpoint: the note must carry a good signature by one of `verifiers`, its
 * text must be a checkpoint and, when given, of `origin` (a checkpoint of another organisation
 * or deployment proves nothing about this one).
 */
export function openCheckpoint(
  note: string,
  verifiers: readonly (NoteVerifier | string)[],
  origin?: string,
): ParsedCheckpoint & { signatures: { name: string; keyId: string }[] } {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new CheckpointError(`the checkpoint is of ${checkpoint.origin}, not of ${origin}`);
  }
  return { ...checkpoint, signatures: opened.signatures };
}
