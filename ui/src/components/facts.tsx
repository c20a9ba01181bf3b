// A record's details as label / value pairs, and its JSON members (metadata) as indented text.
import type { ComponentChildren } from 'preact';
import { text } from './bits';

export function Facts({ items, testId }: { items: Array<[string, ComponentChildren]>; testId?: string }) {
  return (
    <dl class="facts" data-testid={testId}>
      {items.map(([k, v]) => [<dt key={`t-${k}`}>{k}</dt>, <dd key={`d-${k}`}>{v === null || v === undefined || v === '' ? '—' : v}</dd>])}
    </dl>
  );
}

/** A JSON value shown as text (never HTML): objects indented, strings as they are. */
export function JsonBlock({ value, testId }: { value: unknown; testId?: string }) {
  const s = value !== null && typeof value === 'object' ? JSON.stringify(value, null, 2) : text(value);
  return (
    <pre class="detail" data-testid={testId}>
      {s}
    </pre>
  );
}
