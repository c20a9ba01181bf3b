// A table of rows the server pages: the columns say how to draw each cell (always as text or as
// elements, never as HTML), and the pager asks for the next or previous page.
import type { ComponentChildren } from 'preact';

export interface Column<R> {
  title: string;
  cell: (row: R) => ComponentChildren;
  /** Right-aligned (numbers, money). */
  numeric?: boolean;
}

export function Table<R>({ columns, rows, rowKey, onRow, empty = 'Nothing yet.', testId }: {
  columns: Column<R>[];
  rows: R[];
  rowKey: (row: R) => string;
  onRow?: (row: R) => void;
  empty?: string;
  testId?: string;
}) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.title} class={c.numeric ? 'num' : undefined}>
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={columns.length} class="empty">
              {empty}
            </td>
          </tr>
        ) : (
          rows.map((r) => (
            <tr key={rowKey(r)} class={onRow ? 'clickable' : undefined} onClick={onRow ? () => onRow(r) : undefined}>
              {columns.map((c) => (
                <td key={c.title} class={c.numeric ? 'num' : undefined}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

/** Previous / next over server pages (1-based). `hasNext` is known from a full page or a total. */
export function Pager({ page, hasNext, onPage, total }: { page: number; hasNext: boolean; onPage: (p: number) => void; total?: number }) {
  return (
    <div class="pager">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ‹ Previous
      </button>
      <span>
        Page {page}
        {total !== undefined ? ` · ${total} in all` : ''}
      </span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Next ›
      </button>
    </div>
  );
}
