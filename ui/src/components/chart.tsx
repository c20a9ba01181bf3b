// A uPlot chart as a component: built once on mount, given new data with setData (no rebuild per
// update, so the live view redraws every second for the cost of one canvas paint), resized with its
// box. uPlot draws on a canvas and sets only style properties, which the page's CSP allows.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  /** Everything but width and height (taken from the box). Read once, on mount. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height?: number;
  testId?: string;
  label: string;
}

export function Chart({ options, data, height = 220, testId, label }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const u = new uPlot({ ...options, width: Math.max(200, el.clientWidth), height }, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="chart" ref={box} data-testid={testId} role="img" aria-label={label} />;
}

/** The colours of a chart's series, in order: readable on light and dark backgrounds. */
export const PALETTE = ['#1f6feb', '#e8590c', '#2f9e44', '#ae3ec9', '#f59f00', '#0c8599', '#e03131', '#5c7cfa', '#868e96', '#74b816'];

/** Axis colours follow the page's text colour (light or dark). */
export function axis(extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  const fg = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#6b7076';
  const line = getComputedStyle(document.documentElement).getPropertyValue('--line').trim() || '#e2e3e5';
  return { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 }, ...extra };
}

export const bars = uPlot.paths.bars!({ size: [0.7, 60], align: 0 });
