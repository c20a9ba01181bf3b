// Users (LiteLLM_UserTable): the list (server-paged, searched by email), create (its first key
// shown once), edit, delete; a selected user's teams and keys.
import { api } from '../api';
import { money, when } from '../components/bits';
import { EntityPage } from '../components/entity-page';
import type { FieldDef } from '../components/form';
import type { Column } from '../components/table';
import { useLoad } from '../components/use-load';
import { href } from '../router';
import { isAdmin, seesAll } from '../session';
import type { PageDef, PageProps } from './registry';

type User = Record<string, unknown> & { user_id: string; user_email?: string | null; user_role?: string | null; spend?: number; max_budget?: number | null; key_count?: number; teams?: string[] };

const ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'org_admin'];

const FIELDS: FieldDef[] = [
  { name: 'user_id', label: 'User id (empty = generated)', createOnly: true },
  { name: 'user_email', label: 'Email' },
  { name: 'user_alias', label: 'Name' },
  { name: 'user_role', label: 'Role', kind: 'select', options: ROLES },
  { name: 'models', label: 'Models (comma-separated; empty = all)', kind: 'list' },
  { name: 'max_budget', label: 'Max budget ($)', kind: 'number' },
  { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d' },
  { name: 'rpm_limit', label: 'Requests / minute', kind: 'integer' },
  { name: 'tpm_limit', label: 'Tokens / minute', kind: 'integer' },
  { name: 'metadata', label: 'Metadata (JSON object)', kind: 'json' },
];

const columns: Column<User>[] = [
  { title: 'User', cell: (u) => u.user_id },
  { title: 'Email', cell: (u) => u.user_email ?? '—' },
  { title: 'Role', cell: (u) => u.user_role ?? '—' },
  { title: 'Teams', cell: (u) => (u.teams?.length ? u.teams.join(', ') : '—') },
  { title: 'Keys', numeric: true, cell: (u) => String(u.key_count ?? 0) },
  { title: 'Spend', numeric: true, cell: (u) => money(u.spend ?? 0) },
  { title: 'Budget', numeric: true, cell: (u) => (u.max_budget == null ? '—' : money(u.max_budget)) },
  { title: 'Created', cell: (u) => when(u.created_at) },
];

function UserKeys({ userId }: { userId: string }) {
  const info = useLoad((signal) => api<{ keys: Array<{ token: string; key_alias?: string | null; key_name?: string | null }> }>('/key/list', { query: { user_id: userId, size: 100, return_full_object: true }, signal }), [userId]);
  const keys = info.data?.keys ?? [];
  return (
    <p>
      Keys:{' '}
      {keys.length === 0
        ? 'none'
        : keys.map((k, i) => (
            <span key={k.token}>
              {i > 0 && ', '}
              <a href={href('keys', k.token)}>{k.key_alias || k.key_name}</a>
            </span>
          ))}
    </p>
  );
}

function Users({ session }: PageProps) {
  return (
    <EntityPage<User>
      title="Users"
      noun="user"
      testId="users"
      searchLabel="Email contains"
      load={async (q, signal) => {
        const r = await api<{ users: User[]; total: number; total_pages: number }>('/user/list', { query: { page: q.page, page_size: q.size, user_email: q.search }, signal });
        return { rows: r.users, total: r.total, totalPages: r.total_pages };
      }}
      columns={columns}
      rowId={(u) => u.user_id}
      fields={FIELDS}
      writable={isAdmin(session)}
      create={async (body) => (await api<{ key?: string }>('/user/new', { body })).key}
      update={(u, body) => api('/user/update', { body: { ...body, user_id: u.user_id } })}
      remove={(u) => api('/user/delete', { body: { user_ids: [u.user_id] } })}
      detail={(u) => <UserKeys userId={u.user_id} />}
    />
  );
}

export const usersPage: PageDef = { id: 'users', title: 'Users', component: Users, visible: seesAll };
