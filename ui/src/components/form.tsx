// Forms built from a list of fields: each field is edited as text and turned into the JSON the
// management API takes (numbers, lists, JSON objects, booleans). On create an empty field is left
// out (the server's default); on edit only fields that changed are sent, and emptying one sends null.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorLine } from './bits';

export type FieldKind = 'text' | 'secret' | 'number' | 'integer' | 'list' | 'json' | 'bool' | 'select';

export interface FieldDef {
  name: string;
  label: string;
  kind?: FieldKind;
  options?: string[];
  placeholder?: string;
  /** Shown only when creating (ids and other values that cannot change). */
  createOnly?: boolean;
  /** Spans the whole row (JSON). */
  wide?: boolean;
}

export type Values = Record<string, string>;

/** A field's text from a server value. */
export function toText(def: FieldDef, v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (def.kind) {
    case 'list':
      return Array.isArray(v) ? v.join(', ') : String(v);
    case 'json':
      return typeof v === 'object' && Object.keys(v as object).length === 0 ? '' : JSON.stringify(v, null, 2);
    case 'bool':
      return v ? 'true' : 'false';
    default:
      return String(v);
  }
}

/** The JSON value of a field's text; throws with the field's label when it cannot be read. */
export function fromText(def: FieldDef, s: string): unknown {
  const t = s.trim();
  if (t === '') return null;
  switch (def.kind) {
    case 'number':
    case 'integer': {
      const n = Number(t);
      if (!Number.isFinite(n) || (def.kind === 'integer' && !Number.isInteger(n))) throw new Error(`${def.label}: not ${def.kind === 'integer' ? 'a whole number' : 'a number'}`);
      return n;
    }
    case 'list':
      return t.split(',').map((x) => x.trim()).filter(Boolean);
    case 'json': {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        throw new Error(`${def.label}: not valid JSON`);
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${def.label}: must be a JSON object`);
      return v;
    }
    case 'bool':
      return t === 'true';
    default:
      return t;
  }
}

export function initialValues(fields: FieldDef[], row?: Record<string, unknown>): Values {
  const out: Values = {};
  for (const f of fields) out[f.name] = row ? toText(f, row[f.name]) : '';
  return out;
}

/** The request body: on create the non-empty fields; on edit the fields that differ from `before`. */
export function bodyOf(fields: FieldDef[], values: Values, before?: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of fields) {
    const s = values[f.name] ?? '';
    if (before) {
      if (f.createOnly || s === (before[f.name] ?? '')) continue;
      body[f.name] = fromText(f, s);
    } else if (s.trim() !== '') body[f.name] = fromText(f, s);
  }
  return body;
}

function Input({ def, value, onChange }: { def: FieldDef; value: string; onChange: (v: string) => void }) {
  const on = (e: Event) => onChange((e.currentTarget as HTMLInputElement).value);
  if (def.kind === 'json') return <textarea name={def.name} rows={4} placeholder={def.placeholder ?? '{}'} value={value} onInput={on} />;
  if (def.kind === 'select' || def.kind === 'bool') {
    const opts = def.kind === 'bool' ? ['', 'true', 'false'] : ['', ...(def.options ?? [])];
    return (
      <select name={def.name} value={value} onChange={on}>
        {opts.map((o) => (
          <option key={o} value={o}>
            {o || '—'}
          </option>
        ))}
      </select>
    );
  }
  if (def.kind === 'secret') return <input name={def.name} type="password" autocomplete="off" placeholder={def.placeholder} value={value} onInput={on} />;
  return <input name={def.name} inputMode={def.kind === 'number' || def.kind === 'integer' ? 'decimal' : undefined} placeholder={def.placeholder} value={value} onInput={on} />;
}

/**
 * A form over `fields`: `onSubmit` gets the request body (see bodyOf) and its error, if it throws,
 * is shown under the form. `before` (the row's values) makes it an edit form.
 */
export function EntityForm({ title, fields, before, submitLabel, onSubmit, onCancel, children }: {
  title: string;
  fields: FieldDef[];
  before?: Values;
  submitLabel: string;
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  onCancel: () => void;
  children?: ComponentChildren;
}) {
  const shown = before ? fields.filter((f) => !f.createOnly) : fields;
  const [values, setValues] = useState<Values>(() => ({ ...initialValues(fields), ...before }));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await onSubmit(bodyOf(fields, values, before));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-label={title}>
      <h2 class="form-title">{title}</h2>
      {shown.map((f) => (
        <label key={f.name} class={f.wide || f.kind === 'json' ? 'wide' : undefined}>
          {f.label}
          <Input def={f} value={values[f.name] ?? ''} onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))} />
        </label>
      ))}
      {children}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <div class="wide">
        <ErrorLine error={error} />
      </div>
    </form>
  );
}
