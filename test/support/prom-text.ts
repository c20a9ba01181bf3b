// A strict parser of the Prometheus text exposition format (0.0.4), for tests of /metrics: it
// throws on anything a Prometheus server would refuse or that breaks the format's rules — a sample
// before its family's TYPE, a family split in two, a bad name, an unknown escape, a duplicate
// series, a histogram whose buckets are not cumulative or whose +Inf bucket is not its count.
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: FamilyType;
  help: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<FamilyType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(line: number, why: string, text: string): never {
  throw new Error(`metrics line ${line}: ${why}: ${JSON.stringify(text.slice(0, 200))}`);
}

function parseValue(s: string, line: number, text: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) fail(line, `bad value ${s}`, text);
  return Number(s);
}

/** Parses `{a="x",b="y"}` starting at `i` (the `{`); returns the labels and the index after `}`. */
function parseLabels(text: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) fail(line, 'label without =', text);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(line, `bad label name ${name}`, text);
    if (name in labels) fail(line, `label ${name} twice`, text);
    if (text[eq + 1] !== '"') fail(line, 'label value not quoted', text);
    let v = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) fail(line, 'unterminated label value', text);
      if (c === '"') break;
      if (c === '\n') fail(line, 'newline in label value', text);
      if (c === '\\') {
        const e = text[j + 1];
        if (e === '\\') v += '\\';
        else if (e === '"') v += '"';
        else if (e === 'n') v += '\n';
        else fail(line, `bad escape \\${e}`, text);
        j += 2;
        continue;
      }
      v += c;
      j++;
    }
    labels[name] = v;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(line, 'expected , or } after a label', text);
  }
}

/** The family a sample name belongs to, given the family being read. */
function belongs(family: PromFamily, sample: string): boolean {
  if (family.type === 'histogram') return sample === `${family.name}_bucket` || sample === `${family.name}_sum` || sample === `${family.name}_count`;
  if (family.type === 'summary') return sample === family.name || sample === `${family.name}_sum` || sample === `${family.name}_count`;
  return sample === family.name;
}

export function parsePrometheusText(body: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const done = new Set<string>();
  const seriesSeen = new Set<string>();
  let current: PromFamily | null = null;
  let pendingHelp: { name: string; help: string } | null = null;
  if (body.length && !body.endsWith('\n')) throw new Error('metrics: the body must end with a newline');
  const lines = body.split('\n');
  lines.pop();
  lines.forEach((text, idx) => {
    const line = idx + 1;
    if (text === '') return;
    if (text.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(text);
      if (!m) return; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail(line, `bad metric name ${name}`, text);
      if (kind === 'HELP') {
        if (families.has(name) || pendingHelp) fail(line, `HELP for ${name} out of place`, text);
        pendingHelp = { name, help: rest };
        return;
      }
      if (!TYPES.has(rest as FamilyType)) fail(line, `unknown type ${rest}`, text);
      if (families.has(name)) fail(line, `family ${name} declared twice`, text);
      if (pendingHelp && pendingHelp.name !== name) fail(line, `HELP of ${pendingHelp.name} followed by TYPE of ${name}`, text);
      if (current) done.add(current.name);
      current = { name, type: rest as FamilyType, help: pendingHelp?.help ?? '', samples: [] };
      pendingHelp = null;
      families.set(name, current);
      return;
    }
    const nameEnd = text.search(/[{ ]/);
    if (nameEnd <= 0) fail(line, 'no sample name', text);
    const name = text.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) fail(line, `bad sample name ${name}`, text);
    if (!current || !belongs(current, name)) fail(line, `sample ${name} outside its family's block (TYPE first, one block per family)`, text);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (text[i] === '{') [labels, i] = parseLabels(text, i, line);
    if (text[i] !== ' ') fail(line, 'expected a space before the value', text);
    const parts = text.slice(i + 1).split(' ');
    if (parts.length > 2) fail(line, 'trailing fields', text);
    const value = parseValue(parts[0]!, line, text);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(line, 'bad timestamp', text);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(key)) fail(line, 'duplicate series', text);
    seriesSeen.add(key);
    if (current.type === 'counter' && !(value >= 0)) fail(line, 'negative counter', text);
    if (current.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) fail(line, 'bucket without le', text);
    current.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets cumulative and ascending in le, +Inf last and equal to _count, one _sum and _count per series. */
function checkHistogram(f: PromFamily): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const k = JSON.stringify(Object.entries(rest).sort());
    let e = series.get(k);
    if (!e) series.set(k, (e = { buckets: [] }));
    if (s.name.endsWith('_bucket')) e.buckets.push([parseValue(le!, 0, le!), s.value]);
    else if (s.name.endsWith('_sum')) e.sum = s.value;
    else e.count = s.value;
  }
  for (const [k, e] of series) {
    if (e.sum === undefined || e.count === undefined) throw new Error(`${f.name}${k}: no _sum or _count`);
    const last = e.buckets[e.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket last`);
    if (last[1] !== e.count) throw new Error(`${f.name}${k}: +Inf bucket ${last[1]} ≠ count ${e.count}`);
    for (let i = 1; i < e.buckets.length; i++) {
      if (!(e.buckets[i]![0] > e.buckets[i - 1]![0])) throw new Error(`${f.name}${k}: le not ascending`);
      if (e.buckets[i]![1] < e.buckets[i - 1]![1]) throw new Error(`${f.name}${k}: buckets not cumulative`);
    }
  }
}

/** Sum of the samples named `name` whose labels include every pair of `match`. */
export function sumOf(families: Map<string, PromFamily>, family: string, match: Record<string, string> = {}, name = family): number {
  const f = families.get(family);
  if (!f) throw new Error(`no metric family ${family}`);
  let total = 0;
  for (const s of f.samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** The samples of a family (or of one of its sample names) matching `match`. */
export function samplesOf(families: Map<string, PromFamily>, family: string, match: Record<string, string> = {}, name = family): PromSample[] {
  const f = families.get(family);
  if (!f) throw new Error(`no metric family ${family}`);
  return f.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
