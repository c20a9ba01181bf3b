// Budgets (LiteLLM_BudgetTable, shared by end users, organizations and team members): the list
// (server-paged), create, edit, delete.
import { api } from '../api';
import { money, text, when } from '../components/bits';
import { EntityPage } from '../components/entity-page';
import type { FieldDef } from '../components/form';
import type { Column } from '../components/table';
import { isAdmin, seesAll } from '../session';
import type { PageDef, PageProps } from './registry';

type Budget = Record<string, unknown> & { budget_id: string; max_budget?: number | null; soft_budget?: number | null; budget_duration?: string | null };

const FIELDS: FieldDef[] = [
  { name: 'budget_id', label: 'Budget id (empty = generated)', createOnly: true },
  { name: 'max_budget', label: 'Max budget ($)', kind: 'number' },
  { name: 'soft_budget', label: 'Soft budget ($, alert)', kind: 'number' },
  { name: 'budget_duration', label: 'Resets every', placeholder: '30d' },
  { name: 'rpm_limit', label: 'Requests / minute', kind: 'integer' },
  { name: 'tpm_limit', label: 'Tokens / minute', kind: 'integer' },
  { name: 'max_parallel_requests', label: 'Parallel requests', kind: 'integer' },
];

const columns: Column<Budget>[] = [
  { title: 'Budget id', cell: (b) => <code>{b.budget_id}</code> },
  { title: 'Max', numeric: true, cell: (b) => (b.max_budget == null ? '—' : money(b.max_budget)) },
  { title: 'Soft', numeric: true, cell: (b) => (b.soft_budget == null ? '—' : money(b.soft_budget)) },
  { title: 'Resets every', cell: (b) => text(b.budget_duration ?? null) },
  { title: 'Next reset', cell: (b) => when(b.budget_reset_at) },
  { title: 'RPM', numeric: true, cell: (b) => text(b.rpm_limit ?? null) },
  { title: 'TPM', numeric: true, cell: (b) => text(b.tpm_limit ?? null) },
];

function Budgets({ session }: PageProps) {
  return (
    <EntityPage<Budget>
      title="Budgets"
      noun="budget"
      testId="budgets"
      load={async (q, signal) => {
        const r = await api<{ budgets: Budget[]; total: number; total_pages: number }>('/budget/list', { query: { page: q.page, page_size: q.size }, signal });
        return { rows: r.budgets, total: r.total, totalPages: r.total_pages };
      }}
      columns={columns}
      rowId={(b) => b.budget_id}
      fields={FIELDS}
      writable={isAdmin(session)}
      create={async (body) => void (await api('/budget/new', { body }))}
      update={(b, body) => api('/budget/update', { body: { ...body, budget_id: b.budget_id } })}
      remove={(b) => api('/budget/delete', { body: { id: b.budget_id } })}
    />
  );
}

export const budgetsPage: PageDef = { id: 'budgets', title: 'Budgets', component: Budgets, visible: seesAll };
