// Prometheus text exposition format 0.0.4: families with HELP and TYPE, escaped label values.

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

export class TextWriter {
  private readonly parts: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
  }

  sample(name: string, names: readonly string[], values: readonly string[], value: number, extra?: string): void {
    let labels = '';
    for (let i = 0; i < names.length; i++) labels += `${labels ? ',' : ''}${names[i]}="${escapeLabel(values[i]!)}"`;
    if (extra) labels += `${labels ? ',' : ''}${extra}`;
    this.parts.push(labels ? `${name}{${labels}} ${formatValue(value)}\n` : `${name} ${formatValue(value)}\n`);
  }

  text(): string {
    return this.parts.join('');
  }
}
