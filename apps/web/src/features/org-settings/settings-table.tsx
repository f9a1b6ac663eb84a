import type { ReactNode } from "react";

/**
 * A settings list's table: a scroll box, a header of `columns` (and, with `actions`, a last one
 * named for screen readers only), the caller's rows as its body. The streams' look by default;
 * the alert rules pass their own class names.
 */
export function SettingsTable({
  columns,
  actions = false,
  className = "stream-table",
  wrapClassName = "table-scroll",
  children,
}: {
  columns: string[];
  actions?: boolean;
  className?: string;
  wrapClassName?: string;
  children: ReactNode;
}) {
  return (
    <div className={wrapClassName}>
      <table className={className}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
