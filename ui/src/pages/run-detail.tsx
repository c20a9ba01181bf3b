// One run: its state, cost and error, cancel (while it runs) and retry (once it ended), its events
// streaming live, and its artifacts: a diff drawn as a diff, anything else as text.
import { useEffect, useState } from 'preact/hooks';
import { api, apiText } from '../api';
import { ConfirmButton, ErrorLine, money, text, when } from '../components/bits';
import { StatusBadge } from '../components/status-badge';
import { useLoad } from '../components/use-load';
import { href, navigate } from '../router';
import { canWrite, type Session } from '../session';
import { DiffView } from './diff-view';
import { RunEvents } from './run-events';
import { type Artifact, FINAL, type List, type Run, runPath, statusTone } from './run-types';

/** Artifacts above this are not drawn in the page (the link downloads them). */
const MAX_SHOWN_BYTES = 2 * 1024 * 1024;

function ArtifactView({ runId, a }: { runId: string; a: Artifact }) {
  const body = useLoad((signal) => apiText(runPath(runId, `/artifacts/${encodeURIComponent(a.name)}`), signal), [runId, a.name]);
  if (body.error) return <ErrorLine error={body.error} />;
  if (body.data === undefined) return <p class="muted">Loading…</p>;
  return a.kind === 'diff' || a.name.endsWith('.diff') || a.name.endsWith('.patch') ? <DiffView text={body.data} /> : <pre class="detail" data-testid="artifact-text">{body.data}</pre>;
}

function Artifacts({ runId, version }: { runId: string; version: string }) {
  const list = useLoad((signal) => api<List<Artifact>>(runPath(runId, '/artifacts'), { signal }), [runId, version]);
  const [open, setOpen] = useState<string | null>(null);
  const items = list.data?.data ?? [];
  const shown = items.find((a) => a.name === open) ?? items.find((a) => a.kind === 'diff') ?? null;
  return (
    <div>
      <ErrorLine error={list.error} />
      {!items.length && <p class="muted">No artifacts{list.loading ? ' yet' : ''}.</p>}
      <ul class="artifacts">
        {items.map((a) => (
          <li key={a.name}>
            <button type="button" aria-pressed={shown?.name === a.name} onClick={() => setOpen(a.name)}>
              {a.name}
            </button>{' '}
            <span class="muted">
              {a.kind} · {a.size.toLocaleString()} bytes{a.truncated ? ' · truncated' : ''}
            </span>{' '}
            <a href={runPath(runId, `/artifacts/${encodeURIComponent(a.name)}`)} download={a.name}>
              download
            </a>
          </li>
        ))}
      </ul>
      {shown && (shown.size <= MAX_SHOWN_BYTES ? <ArtifactView key={shown.name} runId={runId} a={shown} /> : <p class="muted">Too large to show here: download it.</p>)}
    </div>
  );
}

export function RunDetail({ id, session }: { id: string; session: Session }) {
  const run = useLoad((signal) => api<Run>(runPath(id), { signal }), [id]);
  const [actionError, setActionError] = useState('');
  // The events say a new state first; the run's row (its cost, its end time) follows it.
  const [reported, setReported] = useState<string | null>(null);
  const [tries, setTries] = useState(0);
  const r = run.data;
  const status = reported && r && !FINAL.has(r.status) ? reported : r?.status;
  const ended = !!status && FINAL.has(status);
  useEffect(() => {
    // Ended by its events, not yet in its row: read the row again, a bounded number of times.
    if (!r || run.loading || !reported || !FINAL.has(reported) || FINAL.has(r.status) || tries >= 20) return;
    const t = setTimeout(() => (setTries((n) => n + 1), run.reload()), 250);
    return () => clearTimeout(t);
  }, [r, run.loading, reported, tries]);

  const act = async (what: 'cancel' | 'retry') => {
    setActionError('');
    try {
      const next = await api<Run>(runPath(id, `/${what}`), { body: {} });
      if (what === 'retry') navigate(href('runs', next.id));
      else run.reload();
    } catch (e) {
      setActionError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section>
      <p>
        <a href={href('runs')}>‹ All runs</a>
      </p>
      <div class="page-head">
        <h1 class="mono">{id}</h1>
        {r && status && <StatusBadge status={status} tone={statusTone(status)} />}
        {r && canWrite(session) && !ended && <ConfirmButton label="Cancel" question="Cancel this run?" onConfirm={() => act('cancel')} />}
        {r && canWrite(session) && ended && (
          <button type="button" onClick={() => act('retry')}>
            Retry
          </button>
        )}
      </div>
      <ErrorLine error={run.error || actionError} />
      {r && (
        <dl class="facts">
          <dt>Job / profile</dt>
          <dd>{r.job ? `${r.job} (${r.profile})` : r.profile}</dd>
          <dt>Agent</dt>
          <dd>{`${r.agent}${r.model ? ` · ${r.model}` : ''}`}</dd>
          <dt>Trigger</dt>
          <dd>{`${r.trigger}${r.trigger_ref ? ` · ${r.trigger_ref}` : ''}`}</dd>
          <dt>Attempt</dt>
          <dd>{r.retry_of ? <>{r.attempt} (retry of <a href={href('runs', r.retry_of)}>{r.retry_of}</a>)</> : r.attempt}</dd>
          <dt>Queued · started · finished</dt>
          <dd>{`${when(r.queued_at)} · ${when(r.started_at)} · ${when(r.finished_at)}`}</dd>
          <dt>Cost</dt>
          <dd data-testid="run-cost">{r.cost === null ? '—' : money(r.cost)}{r.max_budget !== null ? ` of ${money(r.max_budget)}` : ''}</dd>
          <dt>Turns · exit code</dt>
          <dd>{`${r.num_turns ?? '—'} · ${r.exit_code ?? '—'}`}</dd>
          {r.error && (
            <>
              <dt>Error</dt>
              <dd class="error">{`${r.error.kind ?? ''}${r.error.message ? `: ${r.error.message}` : ''}`}</dd>
            </>
          )}
          {r.result !== null && r.result !== undefined && (
            <>
              <dt>Result</dt>
              <dd>{text(r.result)}</dd>
            </>
          )}
        </dl>
      )}
      <h2>Events</h2>
      <RunEvents
        id={id}
        onStatus={(s) => {
          if (s) setReported(s);
          run.reload();
        }}
      />
      <h2>Artifacts</h2>
      {/* Read again when the run ends, by its events and again by its row (artifacts are kept as it ends). */}
      <Artifacts runId={id} version={`${status}|${r?.status}|${r?.finished_at}`} />
    </section>
  );
}
