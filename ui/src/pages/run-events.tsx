// A run's events as they happen: GET /v1/agent/runs/{id}/events as server-sent events (a finished
// run's replay ends the stream; a live run's stream ends with its final state). Kept to the last
// MAX_EVENTS in memory; a broken stream can be resumed after the last event seen.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorLine } from '../components/bits';
import { readSse } from '../sse';
import { type RunEvent, runPath } from './run-types';

const MAX_EVENTS = 2000;
const MAX_TEXT = 2000;

/** One line of text for an event: the printed line, the new state, or the agent's JSON. */
function summary(e: RunEvent): string {
  const p = e.payload as Record<string, unknown> | string | null;
  if (typeof p === 'string') return p;
  if (p && typeof p === 'object') {
    if (typeof p.text === 'string') return p.text;
    if (e.type === 'status' && typeof p.status === 'string') return `${p.status}${typeof p.message === 'string' ? `: ${p.message}` : ''}`;
  }
  const s = JSON.stringify(p) ?? '';
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s;
}

/** `onStatus` hears each state the run reports (its status events), and null when the stream ends. */
export function RunEvents({ id, onStatus }: { id: string; onStatus: (status: string | null) => void }) {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [dropped, setDropped] = useState(0);
  const [state, setState] = useState<'streaming' | 'ended' | 'broken'>('streaming');
  const [error, setError] = useState('');
  const [attempt, setAttempt] = useState(0);
  const lastSeq = useRef(0);
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;

  useEffect(() => {
    const ctl = new AbortController();
    setState('streaming');
    setError('');
    readSse(
      runPath(id, '/events'),
      (m) => {
        let e: RunEvent;
        try {
          e = JSON.parse(m.data) as RunEvent;
        } catch {
          return;
        }
        if (typeof e.seq !== 'number' || e.seq <= lastSeq.current) return;
        lastSeq.current = e.seq;
        setEvents((all) => {
          if (all.length < MAX_EVENTS) return [...all, e];
          setDropped((d) => d + 1);
          return [...all.slice(1), e];
        });
        const status = e.type === 'status' ? (e.payload as { status?: unknown } | null)?.status : undefined;
        if (typeof status === 'string') statusRef.current(status);
      },
      ctl.signal,
      lastSeq.current ? String(lastSeq.current) : undefined,
    ).then(
      () => !ctl.signal.aborted && (setState('ended'), statusRef.current(null)),
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setState('broken');
        setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => ctl.abort();
  }, [id, attempt]);

  return (
    <div>
      <p class="muted" role="status" data-testid="events-state">
        {state === 'streaming' ? `streaming… ${events.length} events` : state === 'ended' ? `${events.length + dropped} events, stream ended` : 'stream broken'}
        {dropped > 0 && ` (the first ${dropped} not kept)`}{' '}
        {state !== 'streaming' && (
          <button type="button" onClick={() => setAttempt((a) => a + 1)}>
            {state === 'broken' ? 'Resume' : 'Follow again'}
          </button>
        )}
      </p>
      <ErrorLine error={error} />
      <ol class="events" data-testid="events">
        {events.map((e) => (
          <li key={e.seq} class={`ev ${e.type === 'stderr' ? 'stderr' : e.type === 'status' ? 'status' : ''}`} data-type={e.type}>
            <span class="ev-seq">{e.seq}</span>
            <span class="ev-time">{new Date(e.ts).toLocaleTimeString()}</span>
            <span class="ev-type">{e.type}</span>
            <span class="ev-text">{summary(e)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
