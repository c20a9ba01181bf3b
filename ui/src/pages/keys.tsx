// Keys: the list (server-paged, searched by alias, key name, user or team), a new key's form and
// the new key shown once. A row opens the key's page (key-detail.tsx).
import { useState } from 'preact/hooks';
import { api } from '../api';
import { money, ShownOnce, when, ErrorLine } from '../components/bits';
import { EntityForm } from '../components/form';
import { PAGE_SIZE, SearchBox, usePaging } from '../components/paging';
import { type Column, Pager, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { isAdmin } from '../session';
import { mayCreateKey } from '../rights';
import { href, navigate } from '../router';
import { KeyDetail } from './key-detail';
import { keyFields } from './key-form';
import type { PageDef, PageProps } from './registry';

export interface KeyRow {
  token: string;
  key_name?: string | null;
  key_alias?: string | null;
  user_id?: string | null;
  team_id?: string | null;
  spend?: number | null;
  max_budget?: number | null;
  expires?: string | null;
  blocked?: boolean | null;
  models?: string[];
  created_at?: string | null;
  [k: string]: unknown;
}

interface KeyList {
  keys: KeyRow[];
  total_count: number;
  total_pages: number;
}

export function StateBadge({ blocked, expires }: { blocked?: boolean | null; expires?: string | null }) {
  if (blocked) return <span class="badge bad">blocked</span>;
  if (expires && new Date(expires).getTime() < Date.now()) return <span class="badge warn">expired</span>;
  return <span class="badge ok">active</span>;
}

const columns: Column<KeyRow>[] = [
  { title: 'Alias', cell: (k) => <a href={href('keys', k.token)}>{k.key_alias || '(no alias)'}</a> },
  { title: 'Key', cell: (k) => <code>{k.key_name ?? '—'}</code> },
  { title: 'User', cell: (k) => k.user_id ?? '—' },
  { title: 'Team', cell: (k) => k.team_id ?? '—' },
  { title: 'Spend', numeric: true, cell: (k) => money(k.spend ?? 0) },
  { title: 'Budget', numeric: true, cell: (k) => (k.max_budget == null ? '—' : money(k.max_budget)) },
  { title: 'Expires', cell: (k) => when(k.expires) },
  { title: 'State', cell: (k) => <StateBadge blocked={k.blocked} expires={k.expires} /> },
];

function KeyList({ session }: PageProps) {
  const paging = usePaging();
  const [creating, setCreating] = useState(false);
  const [made, setMade] = useState('');
  const list = useLoad(
    (signal) => api<KeyList>('/key/list', { query: { page: paging.page, size: PAGE_SIZE, return_full_object: true, search: paging.search, sort_by: 'created_at', sort_order: 'desc' }, signal }),
    [paging.page, paging.search],
  );
  const create = async (body: Record<string, unknown>) => {
    const r = await api<{ key: string }>('/key/generate', { body });
    setCreating(false);
    setMade(r.key);
    list.reload();
  };
  return (
    <section>
      <h1>Keys</h1>
      {made && <ShownOnce value={made}>New key: copy it now, it is not shown again.</ShownOnce>}
      <div class="toolbar">
        <SearchBox paging={paging} label="Alias, key name, user or team" />
        <span class="spacer" />
        {mayCreateKey(session) && !creating && (
          <button type="button" class="primary" onClick={() => (setCreating(true), setMade(''))}>
            Create key
          </button>
        )}
      </div>
      {creating && <EntityForm title="New key" fields={keyFields(isAdmin(session))} submitLabel="Create" onSubmit={create} onCancel={() => setCreating(false)} />}
      <ErrorLine error={list.error} />
      <Table testId="keys" columns={columns} rows={list.data?.keys ?? []} rowKey={(k) => k.token} onRow={(k) => navigate(href('keys', k.token))} empty={list.loading ? 'Loading…' : 'No keys.'} />
      <Pager page={paging.page} hasNext={paging.page < (list.data?.total_pages ?? 0)} total={list.data?.total_count} onPage={paging.setPage} />
    </section>
  );
}

function Keys(props: PageProps) {
  const id = props.route.rest[0];
  return id ? <KeyDetail key={id} token={id} session={props.session} /> : <KeyList {...props} />;
}

export const keysPage: PageDef = { id: 'keys', title: 'Keys', component: Keys };
