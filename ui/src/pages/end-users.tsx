// End users (/customer/*: the `user` a client names in its requests): the list (server-paged,
// searched by id or alias), create, edit, block / unblock, delete.
import { api } from '../api';
import { money } from '../components/bits';
import { EntityPage } from '../components/entity-page';
import type { FieldDef } from '../components/form';
import type { Column } from '../components/table';
import { isAdmin, seesAll } from '../session';
import type { PageDef, PageProps } from './registry';

type Customer = Record<string, unknown> & {
  user_id: string;
  alias?: string | null;
  spend?: number;
  blocked?: boolean;
  default_model?: string | null;
  allowed_model_region?: string | null;
  litellm_budget_table?: { max_budget?: number | null; tpm_limit?: number | null; rpm_limit?: number | null; budget_duration?: string | null } | null;
};

const FIELDS: FieldDef[] = [
  { name: 'user_id', label: 'End user id', createOnly: true },
  { name: 'alias', label: 'Alias' },
  { name: 'default_model', label: 'Default model' },
  { name: 'allowed_model_region', label: 'Region', kind: 'select', options: ['eu', 'us'] },
  { name: 'max_budget', label: 'Max budget ($)', kind: 'number' },
  { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d' },
  { name: 'rpm_limit', label: 'Requests / minute', kind: 'integer' },
  { name: 'tpm_limit', label: 'Tokens / minute', kind: 'integer' },
];

const columns: Column<Customer>[] = [
  { title: 'End user', cell: (c) => c.user_id },
  { title: 'Alias', cell: (c) => c.alias ?? '—' },
  { title: 'Spend', numeric: true, cell: (c) => money(c.spend ?? 0) },
  { title: 'Budget', numeric: true, cell: (c) => (c.litellm_budget_table?.max_budget == null ? '—' : money(c.litellm_budget_table.max_budget)) },
  { title: 'Default model', cell: (c) => c.default_model ?? '—' },
  { title: 'State', cell: (c) => (c.blocked ? <span class="badge bad">blocked</span> : <span class="badge ok">active</span>) },
];

function EndUsers({ session }: PageProps) {
  return (
    <EntityPage<Customer>
      title="End users"
      noun="end user"
      testId="end-users"
      searchLabel="Id or alias contains"
      load={async (q, signal) => {
        const r = await api<{ customers: Customer[]; total: number; total_pages: number }>('/customer/list', { query: { page: q.page, page_size: q.size, search: q.search }, signal });
        return { rows: r.customers, total: r.total, totalPages: r.total_pages };
      }}
      columns={columns}
      rowId={(c) => c.user_id}
      fields={FIELDS}
      formValues={(c) => ({ ...c, ...(c.litellm_budget_table ?? {}) })}
      writable={isAdmin(session)}
      create={async (body) => void (await api('/customer/new', { body }))}
      update={(c, body) => api('/customer/update', { body: { ...body, user_id: c.user_id } })}
      remove={(c) => api('/customer/delete', { body: { user_ids: [c.user_id] } })}
      blocked={(c) => !!c.blocked}
      setBlocked={(c, b) => api(b ? '/customer/block' : '/customer/unblock', { body: { user_ids: [c.user_id] } })}
    />
  );
}

export const endUsersPage: PageDef = { id: 'end-users', title: 'End users', component: EndUsers, visible: seesAll };
