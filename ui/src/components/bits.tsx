// Small parts every page uses: an error line, a button that asks first, a secret shown once with a
// copy button, and money and time as people read them.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function ErrorLine({ error }: { error: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

/** A button that asks "Are you sure?" in place before it acts. */
export function ConfirmButton({ label, question, onConfirm, danger = true, disabled }: {
  label: string;
  question: string;
  onConfirm: () => void | Promise<void>;
  danger?: boolean;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={danger ? 'danger' : undefined} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      {question}{' '}
      <button
        type="button"
        class={danger ? 'danger' : 'primary'}
        onClick={async () => {
          setAsking(false);
          await onConfirm();
        }}
      >
        Yes, {label.toLowerCase()}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** A new key (or other secret) the server shows only once. */
export function ShownOnce({ value, children }: { value: string; children?: ComponentChildren }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="shown-once" role="status">
      <p>{children ?? 'Copy this now: it is not shown again.'}</p>
      <code data-testid="secret">{value}</code>{' '}
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(value).catch(() => undefined);
          setCopied(true);
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

export function money(v: unknown): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return '—';
  return n === 0 ? '$0' : n < 0.01 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`;
}

export function when(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = new Date(v as string);
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

/** Any value as one line of text (objects as JSON), for cells and details. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
