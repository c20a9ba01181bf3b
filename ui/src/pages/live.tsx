// Live traffic: one tick a second from GET /ui/live (EventSource; the browser reconnects on its own)
// drawn as headline figures, two minutes of charts, errors by status and every deployment with its
// health. Totals since the page opened are sums of the ticks, so they count requests exactly.
import { useEffect, useState } from 'preact/hooks';
import { Card } from '../components/card';
import { type Column, Table } from '../components/table';
import { seesAll } from '../session';
import { addTick, type DeploymentState, emptyLive, type LiveState, parseTick, type Quantiles, sumErrors } from './live-data';
import { LatencyChart, OverheadChart, ThroughputChart } from './live-charts';
import type { PageDef, PageProps } from './registry';

type Link = 'connecting' | 'live' | 'reconnecting' | 'closed';

const fmtMs = (n: number | null) => (n === null ? '—' : `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`);
const pair = (q: Quantiles) => `${fmtMs(q.p50)} · ${fmtMs(q.p99)}`;
const rate = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

const DEPLOYMENT_COLUMNS: Column<DeploymentState>[] = [
  { title: 'Model', cell: (d) => d.model },
  { title: 'Deployment', cell: (d) => <span class="mono">{d.deployment}</span> },
  {
    title: 'Health',
    cell: (d) => (d.cooldown ? <span class="badge bad">cooling down</span> : d.errors > 0 ? <span class="badge warn">errors</span> : <span class="badge ok">healthy</span>),
  },
  { title: 'Req/s', numeric: true, cell: (d) => rate(d.rps) },
  { title: 'In flight', numeric: true, cell: (d) => String(d.in_flight) },
  { title: 'Latency p50 · p99', numeric: true, cell: (d) => pair(d.latency_ms) },
  { title: 'Errors/s', numeric: true, cell: (d) => String(d.errors) },
  { title: 'Requests (since opened)', numeric: true, cell: (d) => <span data-testid="deployment-total">{rate(d.total)}</span> },
  { title: 'Errors (since opened)', numeric: true, cell: (d) => String(d.total_errors) },
];

function Live(_: PageProps) {
  const [live, setLive] = useState<LiveState>(emptyLive);
  const [link, setLink] = useState<Link>('connecting');

  useEffect(() => {
    const es = new EventSource('/ui/live');
    es.addEventListener('open', () => setLink('live'));
    es.addEventListener('error', () => setLink(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
    es.addEventListener('tick', (e) => {
      const t = parseTick((e as MessageEvent<string>).data);
      if (t) setLive((s) => addTick(s, t));
    });
    return () => es.close();
  }, []);

  const last = live.ticks[live.ticks.length - 1];
  const errorRows = [...live.errorsByStatus.entries()].sort(([a], [b]) => a.localeCompare(b));
  const deployments = [...live.deployments.values()].sort((a, b) => a.model.localeCompare(b.model) || a.deployment.localeCompare(b.deployment));
  const totalErrors = errorRows.reduce((n, [, e]) => n + e.total, 0);

  return (
    <section class="live">
      <div class="page-head">
        <h1>Live traffic</h1>
        <span class={`link ${link}`} role="status" data-testid="live-link">
          {link === 'live' ? 'live' : link === 'connecting' ? 'connecting…' : link === 'reconnecting' ? 'reconnecting…' : 'stream closed (reload the page)'}
        </span>
        <span class="muted" data-testid="live-ticks">
          {live.ticks.length ? `${live.ticks.length} s shown` : ''}
        </span>
      </div>
      <div class="cards">
        <Card label="Requests/s" value={last ? rate(last.rps) : '—'} testId="live-rps" />
        <Card label="Weir overhead p50 · p99" value={last ? pair(last.overhead_ms) : '—'} testId="live-overhead-now" tone="ok" />
        <Card label="Latency p50 · p99" value={last ? pair(last.latency_ms) : '—'} />
        <Card label="Time to first token p50 · p99" value={last ? pair(last.ttft_ms) : '—'} />
        <Card label="Errors/s" value={last ? String(sumErrors(last)) : '—'} tone={last && sumErrors(last) > 0 ? 'bad' : undefined} />
        <Card label="Requests since opened" value={rate(live.total)} testId="live-total" />
        <Card label="Errors since opened" value={String(totalErrors)} testId="live-errors-total" />
      </div>
      <div class="chart-grid">
        <figure class="panel">
          <figcaption>Requests per second</figcaption>
          <ThroughputChart ticks={live.ticks} />
        </figure>
        <figure class="panel highlight">
          <figcaption>
            Added by Weir <span class="muted">(p50, p99)</span>
          </figcaption>
          <OverheadChart ticks={live.ticks} />
        </figure>
        <figure class="panel wide">
          <figcaption>Latency and time to first token</figcaption>
          <LatencyChart ticks={live.ticks} />
        </figure>
      </div>
      <h2>Deployments</h2>
      <Table testId="live-deployments" columns={DEPLOYMENT_COLUMNS} rows={deployments} rowKey={(d) => d.key} empty="No traffic seen yet." />
      <h2>Errors by status</h2>
      <Table
        testId="live-errors"
        columns={[
          { title: 'Status', cell: ([s]) => <span class="badge bad">{s}</span> },
          { title: 'Last second', numeric: true, cell: ([, e]) => String(e.last) },
          { title: 'Since opened', numeric: true, cell: ([, e]) => String(e.total) },
        ]}
        rows={errorRows}
        rowKey={([s]) => s}
        empty="No errors since the page opened."
      />
    </section>
  );
}

export const livePage: PageDef = { id: 'live', title: 'Live', component: Live, visible: seesAll };
