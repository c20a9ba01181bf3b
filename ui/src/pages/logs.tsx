// The spend log rows, newest first, filtered on the server (/spend/logs/ui: key, team, model, status,
// time) and paged there; a row opens its detail: the request's facts, its error, its metadata.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorLine, money, when } from '../components/bits';
import { type Column, Pager, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { LogDetail } from './log-detail';
import { type LogRow, statusOf } from './log-row';
import type { PageDef, PageProps } from './registry';

const PAGE_SIZE = 50;

interface Filters {
  key: string;
  team: string;
  model: string;
  status: '' | 'success' | 'failure';
  from: string;
  to: string;
}

const EMPTY: Filters = { key: '', team: '', model: '', status: '', from: '', to: '' };

/** A key as typed: the key itself or its hash goes as api_key, anything else is taken as an alias. */
function keyQuery(k: string): Record<string, string> {
  const v = k.trim();
  if (!v) return {};
  return v.startsWith('sk-') || /^[0-9a-f]{64}$/i.test(v) ? { api_key: v } : { key_alias: v };
}

/** datetime-local is the browser's local time; the server takes ISO times. */
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

interface Page {
  data: LogRow[];
  total: number;
  page: number;
  total_pages: number;
}

const COLUMNS: Column<LogRow>[] = [
  { title: 'Time', cell: (r) => when(r.startTime) },
  { title: 'Status', cell: (r) => (statusOf(r) === 'failure' ? <span class="badge bad">failure</span> : <span class="badge ok">success</span>) },
  { title: 'Model', cell: (r) => r.model_group || r.model || '—' },
  { title: 'Key', cell: (r) => r.key_alias ?? (r.api_key ? `${r.api_key.slice(0, 10)}…` : '—') },
  { title: 'Team', cell: (r) => r.team_id ?? '—' },
  { title: 'Tokens', numeric: true, cell: (r) => `${r.prompt_tokens ?? 0} / ${r.completion_tokens ?? 0}` },
  { title: 'Duration', numeric: true, cell: (r) => (r.request_duration_ms === null || r.request_duration_ms === undefined ? '—' : `${r.request_duration_ms} ms`) },
  { title: 'Spend', numeric: true, cell: (r) => money(r.spend) },
];

function Logs(_: PageProps) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<LogRow | null>(null);
  const load = useLoad(
    (signal) =>
      api<Page>('/spend/logs/ui', {
        query: {
          ...keyQuery(filters.key),
          team_id: filters.team.trim(),
          model: filters.model.trim(),
          status_filter: filters.status,
          start_date: iso(filters.from),
          end_date: iso(filters.to),
          page,
          page_size: PAGE_SIZE,
        },
        signal,
      }),
    [filters, page],
  );
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  const apply = (e: Event) => {
    e.preventDefault();
    setFilters(draft);
    setPage(1);
    setOpen(null);
  };

  return (
    <section>
      <h1>Logs</h1>
      <form class="toolbar" onSubmit={apply} aria-label="Filters">
        <label>
          Key (alias, key or hash)
          <input name="key" value={draft.key} onInput={set('key')} />
        </label>
        <label>
          Team id
          <input name="team" value={draft.team} onInput={set('team')} />
        </label>
        <label>
          Model
          <input name="model" value={draft.model} onInput={set('model')} />
        </label>
        <label>
          Status
          <select name="status" value={draft.status} onChange={set('status')}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
          </select>
        </label>
        <label>
          From
          <input name="from" type="datetime-local" value={draft.from} onInput={set('from')} />
        </label>
        <label>
          To
          <input name="to" type="datetime-local" value={draft.to} onInput={set('to')} />
        </label>
        <button type="submit" class="primary">
          Filter
        </button>
        <button type="button" onClick={() => { setDraft(EMPTY); setFilters(EMPTY); setPage(1); }}>
          Clear
        </button>
        <button type="button" onClick={load.reload}>
          Refresh
        </button>
      </form>
      <ErrorLine error={load.error} />
      <div class={open ? 'split' : undefined}>
        <div>
          <Table
            testId="logs"
            columns={COLUMNS}
            rows={load.data?.data ?? []}
            rowKey={(r) => r.request_id}
            onRow={setOpen}
            empty={load.loading ? 'Loading…' : 'No requests match.'}
          />
          <Pager page={page} hasNext={!!load.data && page < load.data.total_pages} onPage={setPage} total={load.data?.total} />
        </div>
        {open && <LogDetail row={open} onClose={() => setOpen(null)} />}
      </div>
    </section>
  );
}

/** Every role: the server lists a non-admin's own rows and its admin teams' rows. */
export const logsPage: PageDef = { id: 'logs', title: 'Logs', component: Logs };
