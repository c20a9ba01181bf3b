// Organizations: the list (server-paged, searched by name), create, edit, delete; a selected
// organization's teams and members.
import { api } from '../api';
import { money } from '../components/bits';
import { EntityPage } from '../components/entity-page';
import type { FieldDef } from '../components/form';
import type { Column } from '../components/table';
import { href } from '../router';
import { isAdmin, seesAll } from '../session';
import type { PageDef, PageProps } from './registry';

type Org = Record<string, unknown> & {
  organization_id: string;
  organization_alias?: string | null;
  spend?: number;
  models?: string[];
  litellm_budget_table?: { max_budget?: number | null; tpm_limit?: number | null; rpm_limit?: number | null } | null;
  teams?: Array<{ team_id: string; team_alias?: string | null }>;
  members?: Array<{ user_id: string; user_role?: string | null }>;
};

const FIELDS: FieldDef[] = [
  { name: 'organization_alias', label: 'Name' },
  { name: 'organization_id', label: 'Organization id (empty = generated)', createOnly: true },
  { name: 'models', label: 'Models (comma-separated; empty = all)', kind: 'list' },
  { name: 'max_budget', label: 'Max budget ($)', kind: 'number' },
  { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d' },
  { name: 'rpm_limit', label: 'Requests / minute', kind: 'integer' },
  { name: 'tpm_limit', label: 'Tokens / minute', kind: 'integer' },
  { name: 'metadata', label: 'Metadata (JSON object)', kind: 'json' },
];

const columns: Column<Org>[] = [
  { title: 'Name', cell: (o) => o.organization_alias ?? '—' },
  { title: 'Organization id', cell: (o) => <code>{o.organization_id}</code> },
  { title: 'Teams', numeric: true, cell: (o) => String(o.teams?.length ?? 0) },
  { title: 'Members', numeric: true, cell: (o) => String(o.members?.length ?? 0) },
  { title: 'Spend', numeric: true, cell: (o) => money(o.spend ?? 0) },
  { title: 'Budget', numeric: true, cell: (o) => (o.litellm_budget_table?.max_budget == null ? '—' : money(o.litellm_budget_table.max_budget)) },
  { title: 'Models', cell: (o) => (o.models?.length ? o.models.join(', ') : 'all') },
];

/** The budget columns live in the organization's budget row; edit them from there. */
const editable = (o: Org): Record<string, unknown> => ({ ...o, ...(o.litellm_budget_table ?? {}) });

function Organizations({ session }: PageProps) {
  return (
    <EntityPage<Org>
      title="Organizations"
      noun="organization"
      testId="organizations"
      searchLabel="Name contains"
      load={async (q, signal) => {
        const r = await api<{ organizations: Org[]; total: number; total_pages: number }>('/organization/list', { query: { page: q.page, page_size: q.size, org_alias: q.search }, signal });
        return { rows: r.organizations, total: r.total, totalPages: r.total_pages };
      }}
      columns={columns}
      rowId={(o) => o.organization_id}
      fields={FIELDS}
      formValues={editable}
      writable={isAdmin(session)}
      create={async (body) => void (await api('/organization/new', { body }))}
      update={(o, body) => api('/organization/update', { body: { ...body, organization_id: o.organization_id } })}
      remove={(o) => api('/organization/delete', { body: { organization_ids: [o.organization_id] } })}
      detail={(o) => (
        <p>
          Teams:{' '}
          {o.teams?.length
            ? o.teams.map((t, i) => (
                <span key={t.team_id}>
                  {i > 0 && ', '}
                  <a href={href('teams', t.team_id)}>{t.team_alias || t.team_id}</a>
                </span>
              ))
            : 'none'}
          {' · '}Members: {o.members?.length ? o.members.map((m) => `${m.user_id} (${m.user_role ?? 'member'})`).join(', ') : 'none'}
        </p>
      )}
    />
  );
}

export const organizationsPage: PageDef = { id: 'organizations', title: 'Organizations', component: Organizations, visible: seesAll };
