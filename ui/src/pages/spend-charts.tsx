// The Spend page's charts: spend per day (bars) with requests (a line on its own axis), spend per day
// of each top group (lines), and each group's share of the range (boxes whose width Preact sets as a
// style property from script, which the CSP allows, unlike a style attribute in markup).
import uPlot from 'uplot';
import { useMemo } from 'preact/hooks';
import { axis, bars, Chart, PALETTE } from '../components/chart';
import { money } from '../components/bits';
import type { Breakdown, Day } from './spend-data';
import { seriesData } from './spend-data';

const utc = (ts: number) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
const usd = (_u: uPlot, v: number | null) => (v === null ? '—' : money(v));
/** Axis ticks keep the digits that tell them apart ($0.005, $0.01, $0.015), unlike money(). */
const tick = (v: number) => (v === 0 ? '$0' : `$${Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3))}`);

export function DailyChart({ days }: { days: Day[] }) {
  const data = useMemo(() => {
    const byDate = new Map(days.map((d) => [d.date, d]));
    return seriesData(days.map((d) => d.date), (d) => byDate.get(d)!.spend, (d) => byDate.get(d)!.api_requests);
  }, [days]);
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      tzDate: utc,
      scales: { x: { time: true }, usd: { auto: true, range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] }, n: { auto: true, range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        { value: '{YYYY}-{MM}-{DD}' },
        { label: 'Spend', scale: 'usd', value: usd, fill: PALETTE[0] + 'b0', stroke: PALETTE[0], paths: bars, points: { show: false } },
        { label: 'Requests', scale: 'n', stroke: PALETTE[1], width: 2, points: { show: false } },
      ],
      axes: [axis(), axis({ scale: 'usd', values: (_u, vs) => vs.map(tick), size: 70 }), axis({ scale: 'n', side: 1, grid: { show: false } })],
    }),
    [],
  );
  return <Chart label="Spend and requests per day" testId="spend-daily-chart" options={options} data={data} />;
}

export function GroupChart({ b, days }: { b: Breakdown; days: Day[] }) {
  const data = useMemo(() => seriesData(days.map((d) => d.date), ...b.groups.map((g) => (d: string) => g.daily[d] ?? 0)), [b, days]);
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      tzDate: utc,
      scales: { x: { time: true }, y: { auto: true, range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [{ value: '{YYYY}-{MM}-{DD}' }, ...b.groups.map((g, i) => ({ label: g.label, value: usd, stroke: PALETTE[i % PALETTE.length], width: 2, points: { size: 5 } }))],
      axes: [axis(), axis({ values: (_u, vs) => vs.map(tick), size: 70 })],
    }),
    [b],
  );
  return <Chart label="Spend per day of each group" testId="spend-group-chart" options={options} data={data} />;
}

/** Each group's share of the range's spend, as a bar list. */
export function ShareBars({ b }: { b: Breakdown }) {
  const max = Math.max(...b.groups.map((g) => g.spend), b.other?.spend ?? 0, 0);
  const rows = [...b.groups.map((g, i) => ({ key: g.id, label: g.label, spend: g.spend, color: PALETTE[i % PALETTE.length]! }))];
  if (b.other) rows.push({ key: '\u0000other', label: `Other (${b.total_groups - b.groups.length})`, spend: b.other.spend, color: PALETTE[8]! });
  if (!rows.length) return null;
  return (
    <ul class="share" aria-label="Share of spend">
      {rows.map((r) => (
        <li key={r.key}>
          <span class="share-label" title={r.label}>
            {r.label}
          </span>
          <span class="share-track">
            <span class="share-bar" style={{ width: `${max > 0 ? (100 * r.spend) / max : 0}%`, background: r.color }} />
          </span>
          <span class="num">{money(r.spend)}</span>
        </li>
      ))}
    </ul>
  );
}
