// A management page for one kind of record (users, organizations, end users, budgets): a
// server-paged list with search, a form to create one, and the selected record's details with
// edit, block / unblock and delete where the API has them and the session may.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ConfirmButton, ErrorLine, ShownOnce } from './bits';
import { EntityForm, type FieldDef, initialValues } from './form';
import { JsonBlock } from './facts';
import { PAGE_SIZE, SearchBox, usePaging } from './paging';
import { type Column, Pager, Table } from './table';
import { useLoad } from './use-load';

export interface PageOf<R> {
  rows: R[];
  total: number;
  totalPages: number;
}

export interface EntityPageProps<R> {
  title: string;
  /** "user", "budget": in button labels and questions. */
  noun: string;
  testId: string;
  searchLabel?: string;
  load: (q: { page: number; size: number; search: string }, signal: AbortSignal) => Promise<PageOf<R>>;
  columns: Column<R>[];
  rowId: (r: R) => string;
  fields: FieldDef[];
  /** May create, edit, block and delete (the session's role). */
  writable: boolean;
  /** Creates one; a returned string is a secret shown once (a new user's key). */
  create?: (body: Record<string, unknown>) => Promise<string | void>;
  update?: (row: R, body: Record<string, unknown>) => Promise<unknown>;
  /** The values the edit form starts from, when not the row's own members. */
  formValues?: (row: R) => Record<string, unknown>;
  remove?: (row: R) => Promise<unknown>;
  blocked?: (row: R) => boolean;
  setBlocked?: (row: R, blocked: boolean) => Promise<unknown>;
  /** More about the selected record (its keys, members …), under its details. */
  detail?: (row: R) => ComponentChildren;
}

export function EntityPage<R extends Record<string, unknown>>(p: EntityPageProps<R>) {
  const paging = usePaging();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [secret, setSecret] = useState('');
  const [error, setError] = useState('');
  const list = useLoad((signal) => p.load({ page: paging.page, size: PAGE_SIZE, search: paging.search }, signal), [paging.page, paging.search]);
  const rows = list.data?.rows ?? [];
  const row = selected === null ? undefined : rows.find((r) => p.rowId(r) === selected);
  const act = async (fn: () => Promise<unknown>, after?: () => void) => {
    setError('');
    try {
      await fn();
      after?.();
      list.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section>
      <h1>{p.title}</h1>
      {secret && <ShownOnce value={secret}>The new {p.noun}'s key: copy it now, it is not shown again.</ShownOnce>}
      <div class="toolbar">
        {p.searchLabel && <SearchBox paging={paging} label={p.searchLabel} />}
        <span class="spacer" />
        {p.writable && p.create && !creating && (
          <button type="button" class="primary" onClick={() => (setCreating(true), setSecret(''))}>
            Create {p.noun}
          </button>
        )}
      </div>
      {creating && p.create && (
        <EntityForm
          title={`New ${p.noun}`}
          fields={p.fields}
          submitLabel="Create"
          onSubmit={async (body) => {
            const s = await p.create!(body);
            setCreating(false);
            if (s) setSecret(s);
            list.reload();
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      <ErrorLine error={list.error} />
      <Table
        testId={p.testId}
        columns={p.columns}
        rows={rows}
        rowKey={p.rowId}
        onRow={(r) => (setSelected(p.rowId(r)), setEditing(false), setError(''))}
        empty={list.loading ? 'Loading…' : `No ${p.noun}s.`}
      />
      <Pager page={paging.page} hasNext={paging.page < (list.data?.totalPages ?? 0)} total={list.data?.total} onPage={paging.setPage} />
      {row && (
        <div class="selected" data-testid={`${p.testId}-selected`}>
          <h2>{p.rowId(row)}</h2>
          {p.writable && !editing && (
            <div class="actions-row">
              {p.update && (
                <button type="button" onClick={() => setEditing(true)}>
                  Edit
                </button>
              )}
              {p.setBlocked && p.blocked &&
                (p.blocked(row) ? (
                  <button type="button" onClick={() => act(() => p.setBlocked!(row, false))}>
                    Unblock
                  </button>
                ) : (
                  <ConfirmButton label="Block" question={`Block this ${p.noun}?`} onConfirm={() => act(() => p.setBlocked!(row, true))} />
                ))}
              {p.remove && <ConfirmButton label="Delete" question={`Delete this ${p.noun}?`} onConfirm={() => act(() => p.remove!(row), () => setSelected(null))} />}
            </div>
          )}
          <ErrorLine error={error} />
          {editing && p.update && (
            <EntityForm
              key={p.rowId(row)}
              title={`Edit ${p.noun}`}
              fields={p.fields}
              before={initialValues(p.fields, p.formValues ? p.formValues(row) : row)}
              submitLabel="Save"
              onSubmit={async (body) => {
                if (Object.keys(body).length) await p.update!(row, body);
                setEditing(false);
                list.reload();
              }}
              onCancel={() => setEditing(false)}
            />
          )}
          {p.detail?.(row)}
          <JsonBlock testId={`${p.testId}-record`} value={row} />
        </div>
      )}
    </section>
  );
}
