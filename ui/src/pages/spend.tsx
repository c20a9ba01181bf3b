// Spend over a chosen range: totals, spend and requests per day, the top keys / models / teams /
// users / end users with their daily lines and shares, and both as tables with CSV export. One call
// to /global/spend/breakdown, which sums the Daily* tables in SQL: a month is a few hundred numbers.
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorLine, money } from '../components/bits';
import { Card } from '../components/card';
import { type Column, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { type CsvColumn, downloadText, toCsv } from '../csv';
import { seesAll } from '../session';
import type { PageDef, PageProps } from './registry';
import { DailyChart, GroupChart, ShareBars } from './spend-charts';
import { type Breakdown, type Day, everyDay, type Group, type GroupBy, GROUPINGS, lastDays } from './spend-data';

const PRESETS = [7, 30, 90];
const n = (v: number) => v.toLocaleString();

function CsvButton<R>({ name, columns, rows, testId }: { name: string; columns: CsvColumn<R>[]; rows: R[]; testId: string }) {
  return (
    <button type="button" data-testid={testId} disabled={!rows.length} onClick={() => downloadText(name, toCsv(columns, rows))}>
      Download CSV
    </button>
  );
}

const DAY_CSV: CsvColumn<Day>[] = [
  { title: 'date', value: (d) => d.date },
  { title: 'spend_usd', value: (d) => d.spend },
  { title: 'requests', value: (d) => d.api_requests },
  { title: 'failed_requests', value: (d) => d.failed_requests },
  { title: 'prompt_tokens', value: (d) => d.prompt_tokens },
  { title: 'completion_tokens', value: (d) => d.completion_tokens },
];

const DAY_COLUMNS: Column<Day>[] = [
  { title: 'Date', cell: (d) => d.date },
  { title: 'Spend', numeric: true, cell: (d) => money(d.spend) },
  { title: 'Requests', numeric: true, cell: (d) => n(d.api_requests) },
  { title: 'Failed', numeric: true, cell: (d) => n(d.failed_requests) },
  { title: 'Prompt tokens', numeric: true, cell: (d) => n(d.prompt_tokens) },
  { title: 'Completion tokens', numeric: true, cell: (d) => n(d.completion_tokens) },
];

function groupColumns(title: string, total: number): Column<Group>[] {
  return [
    { title, cell: (g) => (g.label !== g.id ? <span title={g.id}>{g.label}</span> : <span class="mono">{g.id}</span>) },
    { title: 'Spend', numeric: true, cell: (g) => money(g.spend) },
    { title: 'Share', numeric: true, cell: (g) => (total > 0 ? `${((100 * g.spend) / total).toFixed(1)}%` : '—') },
    { title: 'Requests', numeric: true, cell: (g) => n(g.api_requests) },
    { title: 'Failed', numeric: true, cell: (g) => n(g.failed_requests) },
    { title: 'Tokens', numeric: true, cell: (g) => n(g.prompt_tokens + g.completion_tokens) },
  ];
}

const groupCsv = (by: GroupBy): CsvColumn<Group>[] => [
  { title: by, value: (g) => g.id },
  { title: 'label', value: (g) => g.label },
  { title: 'spend_usd', value: (g) => g.spend },
  { title: 'requests', value: (g) => g.api_requests },
  { title: 'failed_requests', value: (g) => g.failed_requests },
  { title: 'prompt_tokens', value: (g) => g.prompt_tokens },
  { title: 'completion_tokens', value: (g) => g.completion_tokens },
];

function Spend(_: PageProps) {
  const [range, setRange] = useState(() => lastDays(30));
  const [groupBy, setGroupBy] = useState<GroupBy>('model');
  const load = useLoad(
    (signal) => api<Breakdown>('/global/spend/breakdown', { query: { start_date: range.start, end_date: range.end, group_by: groupBy, limit: 10 }, signal }),
    [range.start, range.end, groupBy],
  );
  const b = load.data;
  const days = useMemo(() => (b ? everyDay(b) : []), [b]);
  const title = GROUPINGS.find((g) => g.id === groupBy)!.title;

  return (
    <section>
      <h1>Spend</h1>
      <div class="toolbar">
        <label>
          From
          <input type="date" name="start" value={range.start} max={range.end} onChange={(e) => e.currentTarget.value && setRange({ ...range, start: e.currentTarget.value })} />
        </label>
        <label>
          To
          <input type="date" name="end" value={range.end} min={range.start} onChange={(e) => e.currentTarget.value && setRange({ ...range, end: e.currentTarget.value })} />
        </label>
        {PRESETS.map((p) => (
          <button type="button" key={p} onClick={() => setRange(lastDays(p))}>
            Last {p} days
          </button>
        ))}
        <button type="button" onClick={load.reload}>
          Refresh
        </button>
        <div class="tabs" role="tablist" aria-label="Group by">
          {GROUPINGS.map((g) => (
            <button type="button" role="tab" key={g.id} aria-selected={g.id === groupBy} onClick={() => setGroupBy(g.id)}>
              {g.title}
            </button>
          ))}
        </div>
      </div>
      <ErrorLine error={load.error} />
      {b && (
        <>
          <div class="cards">
            <Card label="Spend" value={money(b.totals.spend)} testId="spend-total" />
            <Card label="Requests" value={n(b.totals.api_requests)} testId="spend-requests" />
            <Card label="Failed" value={n(b.totals.failed_requests)} />
            <Card label="Tokens" value={n(b.totals.prompt_tokens + b.totals.completion_tokens)} />
          </div>
          <div class="chart-grid">
            <figure class="panel">
              <figcaption>Spend and requests per day</figcaption>
              <DailyChart key={`${b.start_date}/${b.end_date}`} days={days} />
            </figure>
            <figure class="panel">
              <figcaption>Spend per day by {title.toLowerCase()}</figcaption>
              <GroupChart key={`${groupBy}/${b.start_date}/${b.end_date}/${b.groups.map((g) => g.id).join('\n')}`} b={b} days={days} />
            </figure>
          </div>
          <h2>
            By {title.toLowerCase()}{' '}
            <span class="muted">
              {b.total_groups > b.groups.length ? `(top ${b.groups.length} of ${b.total_groups})` : ''}
            </span>
          </h2>
          <ShareBars b={b} />
          <div class="toolbar">
            <CsvButton name={`spend-by-${groupBy}-${b.start_date}-${b.end_date}.csv`} columns={groupCsv(groupBy)} rows={b.groups} testId="csv-groups" />
          </div>
          <Table testId="spend-groups" columns={groupColumns(title, b.totals.spend)} rows={b.groups} rowKey={(g) => g.id} empty="No spend in this range." />
          <h2>
            Per day <span class="muted">(days with traffic; the CSV has every day)</span>
          </h2>
          <div class="toolbar">
            <CsvButton name={`spend-per-day-${b.start_date}-${b.end_date}.csv`} columns={DAY_CSV} rows={days} testId="csv-days" />
          </div>
          <Table testId="spend-days" columns={DAY_COLUMNS} rows={days.filter((d) => d.api_requests > 0 || d.spend > 0).reverse()} rowKey={(d) => d.date} />
        </>
      )}
    </section>
  );
}

export const spendPage: PageDef = { id: 'spend', title: 'Spend', component: Spend, visible: seesAll };
