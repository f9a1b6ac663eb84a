import { advanceStreamCursors, type CursorMoved, type Database } from "@auditlog/db";

// Why gathered: every stream moved its cursor with a statement (and a commit) of its own after
// each batch, ten an instant apart when ten streams follow one log. The moves asked for while a
// statement is under way go together in the next one (one commit for all), each still only
// after its own receiver's answer and under its own lease; a lone move goes at once.

export interface CursorMove {
  streamId: string;
  throughSeq: number;
  delivered: boolean;
}

/** `advanceStreamCursor` for the streams of one owner, the moves of a moment in one statement. */
export function createCursorAdvancer(db: Database, owner: string) {
  let queued: {
    move: CursorMove;
    resolve: (moved: CursorMoved | null) => void;
    reject: (error: unknown) => void;
  }[] = [];
  let flushing: Promise<void> | undefined;

  const flush = async () => {
    while (queued.length > 0) {
      const taken = queued;
      queued = [];
      try {
        const moved = await advanceStreamCursors(
          db,
          owner,
          taken.map((entry) => entry.move),
        );
        taken.forEach((entry, i) => entry.resolve(moved[i] ?? null));
      } catch (error) {
        // As a statement of its own would have: every move of it failed, none applied.
        for (const entry of taken) entry.reject(error);
      }
    }
    flushing = undefined;
  };

  /** Moves one stream's cursor (a stream asks again only after its previous move's answer). */
  return (move: CursorMove): Promise<CursorMoved | null> =>
    new Promise((resolve, reject) => {
      queued.push({ move, resolve, reject });
      flushing ??= Promise.resolve().then(flush);
    });
}
