// The live view's charts over the last two minutes: throughput with errors, Weir's own added latency
// (the point of the gateway: a few milliseconds next to the upstream's hundreds), and the upstream's
// latency with the time to first token.
import type uPlot from 'uplot';
import { useMemo } from 'preact/hooks';
import { axis, Chart, PALETTE } from '../components/chart';
import { sumErrors, type Tick } from './live-data';

type Opts = Omit<uPlot.Options, 'width' | 'height'>;
const ms = (_u: uPlot, v: number | null) => (v === null ? '—' : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`);
const zeroBased: uPlot.Scale = { auto: true, range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] };
const x = (ticks: Tick[]) => ticks.map((t) => t.t / 1000);
const v = (n: number | null) => (n === null ? null : n);

function useOpts(build: () => Opts): Opts {
  // Options are read once per chart; the series stay the same for the page's life.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(build, []);
}

export function ThroughputChart({ ticks }: { ticks: Tick[] }) {
  const options = useOpts(() => ({
    scales: { x: { time: true }, y: zeroBased },
    series: [
      {},
      { label: 'Requests/s', stroke: PALETTE[0], fill: PALETTE[0] + '30', width: 2, points: { show: false } },
      { label: 'Errors/s', stroke: PALETTE[6], width: 2, points: { show: false } },
    ],
    axes: [axis(), axis({ size: 50 })],
  }));
  const data = useMemo<uPlot.AlignedData>(() => [x(ticks), ticks.map((t) => t.rps), ticks.map(sumErrors)], [ticks]);
  return <Chart label="Requests and errors per second" testId="live-throughput" options={options} data={data} height={200} />;
}

export function OverheadChart({ ticks }: { ticks: Tick[] }) {
  const options = useOpts(() => ({
    scales: { x: { time: true }, y: zeroBased },
    series: [
      {},
      { label: 'Overhead p50', value: ms, stroke: PALETTE[2], fill: PALETTE[2] + '30', width: 2, points: { show: false }, spanGaps: false },
      { label: 'Overhead p99', value: ms, stroke: PALETTE[4], width: 2, dash: [6, 4], points: { show: false }, spanGaps: false },
    ],
    axes: [axis(), axis({ size: 60, values: (_u, vs) => vs.map((n) => `${n} ms`) })],
  }));
  const data = useMemo<uPlot.AlignedData>(() => [x(ticks), ticks.map((t) => v(t.overhead_ms.p50)), ticks.map((t) => v(t.overhead_ms.p99))], [ticks]);
  return <Chart label="Weir's added latency" testId="live-overhead" options={options} data={data} height={200} />;
}

export function LatencyChart({ ticks }: { ticks: Tick[] }) {
  const options = useOpts(() => ({
    scales: { x: { time: true }, y: zeroBased },
    series: [
      {},
      { label: 'Latency p50', value: ms, stroke: PALETTE[0], width: 2, points: { show: false } },
      { label: 'Latency p99', value: ms, stroke: PALETTE[0], width: 1, dash: [6, 4], points: { show: false } },
      { label: 'TTFT p50', value: ms, stroke: PALETTE[3], width: 2, points: { show: false } },
      { label: 'TTFT p99', value: ms, stroke: PALETTE[3], width: 1, dash: [6, 4], points: { show: false } },
    ],
    axes: [axis(), axis({ size: 60, values: (_u, vs) => vs.map((n) => `${n} ms`) })],
  }));
  const data = useMemo<uPlot.AlignedData>(
    () => [x(ticks), ticks.map((t) => v(t.latency_ms.p50)), ticks.map((t) => v(t.latency_ms.p99)), ticks.map((t) => v(t.ttft_ms.p50)), ticks.map((t) => v(t.ttft_ms.p99))],
    [ticks],
  );
  return <Chart label="Request latency and time to first token" testId="live-latency" options={options} data={data} height={200} />;
}
