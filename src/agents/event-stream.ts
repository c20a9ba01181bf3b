// GET /v1/agent/runs/{id}/events as server-sent events: each run event as `id: SEQ`, `event: TYPE`,
// `data: JSON(event)`, resumable with Last-Event-ID (the last seq the client saw), a `: keep-alive`
// comment every 15 s so proxies keep an idle stream open, and the end of the stream after the run's
// final status event — or straight after the replay when the run had already finished (a run that
// ended without one, or whose status event is gone, must not keep a client waiting for ever).
import type { StreamSink } from '../server/worker-protocol';
import type { EventLog } from './event-log';
import { eventJson } from './event-row';
import { FINAL_STATUSES, type RunEvent, type RunStatus } from './types';

export interface StreamRunEventsOptions {
  log: EventLog;
  runId: string;
  /** The Last-Event-ID header; wins over `after` when it is a seq. */
  lastEventId: string | undefined;
  /** `?after=SEQ`. */
  after?: number;
  isFinished: () => Promise<boolean>;
  sink: StreamSink;
  /** Milliseconds between keep-alive comments (default 15 s). */
  keepAliveMs?: number;
}

const HEADERS = ['content-type', 'text/event-stream', 'cache-control', 'no-cache', 'x-accel-buffering', 'no'];
const PAGE = 1_000;

/** The seq to resume after: Last-Event-ID if it is one, else `after`, else 0. */
export function resumeAfter(lastEventId: string | undefined, after: number | undefined): number {
  const id = lastEventId?.trim();
  if (id && /^\d{1,15}$/.test(id)) return Number(id);
  return after !== undefined && Number.isSafeInteger(after) && after > 0 ? after : 0;
}

/** One SSE frame. JSON has no raw line breaks; the type was made one line when stored. An event
 *  appended on this instance brings its JSON (event-row.ts): it is not encoded a second time. */
export function sseFrame(e: RunEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${eventJson(e)}\n\n`;
}

function isFinalStatus(e: RunEvent): boolean {
  if (e.type !== 'status' || !e.payload || typeof e.payload !== 'object') return false;
  return FINAL_STATUSES.has((e.payload as { status?: unknown }).status as RunStatus);
}

/** Streams the run's events to `sink`; returns the stop function (the client left). */
export function streamRunEvents(opts: StreamRunEventsOptions): () => void {
  const { log, runId, sink } = opts;
  let stopped = false;
  let unsubscribe: (() => void) | null = null;
  const keepAlive = setInterval(() => sink.data(': keep-alive\n\n'), opts.keepAliveMs ?? 15_000);
  keepAlive.unref();

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(keepAlive);
    unsubscribe?.();
    unsubscribe = null;
  };
  const finish = (): void => {
    if (stopped) return;
    stop();
    sink.end();
  };
  /** Sends one event; true once the final status went out. */
  const send = (e: RunEvent): boolean => {
    if (stopped) return true;
    sink.data(sseFrame(e));
    if (!isFinalStatus(e)) return false;
    finish();
    return true;
  };

  const afterSeq = resumeAfter(opts.lastEventId, opts.after);
  sink.head(200, HEADERS);

  // Finished runs are read page by page and the stream ends; the others are followed live.
  const replayFinished = async (): Promise<void> => {
    let last = afterSeq;
    for (;;) {
      const page = await log.page(runId, last, PAGE);
      for (const e of page) if (send(e)) return;
      if (page.length < PAGE || stopped) break;
      last = page[page.length - 1]!.seq;
    }
    finish();
  };
  const follow = (): void => {
    if (stopped) return;
    unsubscribe = log.subscribe(runId, afterSeq, (e) => void send(e));
    // The final status may have been among the events replayed inside subscribe().
    if (stopped) {
      unsubscribe();
      unsubscribe = null;
    }
  };

  opts.isFinished().then(
    (finished) => {
      if (stopped) return;
      if (!finished) return follow();
      // A database error while replaying ends the stream: the client resumes with Last-Event-ID.
      replayFinished().catch(finish);
    },
    // Not knowing whether the run is over, follow it: the client may leave whenever it likes.
    follow,
  );
  return stop;
}
