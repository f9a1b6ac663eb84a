import { newId, type SavedView, type SavedViewFilters } from "@auditlog/events";
import { type Database, sqlOf } from "./database.ts";

/**
 * The console's saved views. Every function takes the user AND the organisation, so a view is
 * only ever read, listed or deleted by the account that saved it, in the organisation it was
 * saved in. Filters are stored as the API validated them (`savedViewFiltersSchema`).
 */

interface SavedViewSqlRow {
  id: string;
  name: string;
  filters: SavedViewFilters;
  created_at: Date;
}

function toSavedView(row: SavedViewSqlRow): SavedView {
  return {
    id: row.id,
    name: row.name,
    filters: row.filters,
    createdAt: row.created_at.toISOString(),
  };
}

/** The user's views in the organisation, by name. */
export async function listSavedViews(
  db: Database,
  input: { userId: string; orgId: string },
): Promise<SavedView[]> {
  const { rows } = await sqlOf(db).query<SavedViewSqlRow>(
    `SELECT id, name, filters, created_at FROM saved_views
     WHERE user_id = $1 AND org_id = $2 ORDER BY name, id`,
    [input.userId, input.orgId],
  );
  return rows.map(toSavedView);
}

/**
 * Stores a view, unless the user already has `max` views in the organisation (`limit`) or one
 * with this name (`duplicate`). The count and the insert are one statement; the unique index
 * settles two saves of the same name at once.
 */
export async function insertSavedView(
  db: Database,
  input: { userId: string; orgId: string; name: string; filters: SavedViewFilters; max: number },
): Promise<{ ok: true; view: SavedView } | { ok: false; reason: "duplicate" | "limit" }> {
  try {
    const { rows } = await sqlOf(db).query<SavedViewSqlRow>(
      `INSERT INTO saved_views (id, user_id, org_id, name, filters)
       SELECT $1, $2, $3, $4, $5::jsonb
       WHERE (SELECT count(*) FROM saved_views WHERE user_id = $2 AND org_id = $3) < $6
       RETURNING id, name, filters, created_at`,
      [
        newId("vw"),
        input.userId,
        input.orgId,
        input.name,
        JSON.stringify(input.filters),
        input.max,
      ],
    );
    const row = rows[0];
    return row ? { ok: true, view: toSavedView(row) } : { ok: false, reason: "limit" };
  } catch (error) {
    if ((error as { code?: unknown }).code === "23505") return { ok: false, reason: "duplicate" };
    throw error;
  }
}

/** Deletes one of the user's views in the organisation; false when there is no such view. */
export async function deleteSavedView(
  db: Database,
  input: { userId: string; orgId: string; id: string },
): Promise<boolean> {
  const { rowCount } = await sqlOf(db).query(
    "DELETE FROM saved_views WHERE id = $1 AND user_id = $2 AND org_id = $3",
    [input.id, input.userId, input.orgId],
  );
  return (rowCount ?? 0) > 0;
}
