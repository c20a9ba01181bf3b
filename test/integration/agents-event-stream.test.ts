// The SSE stream of a run's events with a recording sink and a real EventLog on a real PostgreSQL:
// framing, resumption (Last-Event-ID over ?after), the end after the final status or after the
// replay of a finished run, keep-alive comments, stop(), and a run written by another instance.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { EventLog } from '../../src/agents/event-log';
import { resumeAfter, streamRunEvents } from '../../src/agents/event-stream';
import type { RunEvent } from '../../src/agents/types';
import type { StreamSink } from '../../src/server/worker-protocol';
import { createPool } from '../../src/db/pool';
import { stopTestPostgres } from '../support/postgres';
import { agentDb, range, waitFor } from './agents-events-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

const quiet = { warn: () => {}, error: () => {} };

interface Recorded extends StreamSink {
  status: number | null;
  headers: string[];
  chunks: string[];
  ended: number;
  /** The frames sent so far (keep-alive comments left out). */
  frames(): { id: number; event: string; data: RunEvent }[];
}

function recordingSink(): Recorded {
  const r: Recorded = {
    status: null,
    headers: [],
    chunks: [],
    ended: 0,
    head(status, headers) {
      assert.equal(r.status, null, 'head sent twice');
      r.status = status;
      r.headers = headers;
    },
    data(chunk) {
      assert.ok(r.status !== null, 'data before head');
      assert.equal(r.ended, 0, 'data after end');
      r.chunks.push(chunk);
    },
    end() {
      r.ended++;
    },
    frames() {
      const out: { id: number; event: string; data: RunEvent }[] = [];
      for (const block of r.chunks.join('').split('\n\n')) {
        if (!block || block.startsWith(':')) continue;
        const m = /^id: (\d+)\nevent: ([^\n]*)\ndata: ([^\n]*)$/.exec(block);
        assert.ok(m, `malformed frame ${JSON.stringify(block)}`);
        out.push({ id: Number(m[1]), event: m[2]!, data: JSON.parse(m[3]!) });
      }
      return out;
    },
  };
  return r;
}

async function setup(label: string) {
  const { url, pool } = await agentDb(label, cleanups);
  const log = await EventLog.start({ pool, log: quiet });
  cleanups.push(() => log.stop());
  return { url, pool, log };
}

test('resumeAfter: a numeric Last-Event-ID wins, anything else falls back to ?after, then 0', () => {
  assert.equal(resumeAfter('7', 3), 7);
  assert.equal(resumeAfter(' 12 ', undefined), 12);
  assert.equal(resumeAfter('abc', 3), 3);
  assert.equal(resumeAfter('', 3), 3);
  assert.equal(resumeAfter('-1', undefined), 0);
  assert.equal(resumeAfter(undefined, -5), 0);
  assert.equal(resumeAfter(undefined, 1.5), 0);
});

test('a running run: replayed, then live, and the stream ends after the final status event', async () => {
  const { log } = await setup('stream_live');
  log.open('r1');
  log.append('r1', 'status', { status: 'provisioning' });
  log.append('r1', 'system', { type: 'system', subtype: 'init' });
  const sink = recordingSink();
  streamRunEvents({ log, runId: 'r1', lastEventId: undefined, isFinished: async () => false, sink });
  assert.equal(sink.status, 200);
  assert.deepEqual(sink.headers, ['content-type', 'text/event-stream', 'cache-control', 'no-cache', 'x-accel-buffering', 'no']);
  await waitFor('the replay', () => sink.frames().length === 2);
  log.append('r1', 'status', { status: 'running' });
  log.append('r1', 'stdout', 'plain text\nwith a line break');
  // Live delivery is immediate: the frames are there as append returns.
  assert.equal(sink.frames().length, 4);
  assert.equal(sink.ended, 0, 'running is not final');
  log.append('r1', 'status', { status: 'failed', error: { kind: 'agent_error', message: 'boom' } });
  assert.equal(sink.ended, 1);
  log.append('r1', 'stdout', 'after the end');
  await log.close('r1');
  const frames = sink.frames();
  assert.deepEqual(frames.map((f) => f.id), range(1, 5));
  assert.deepEqual(frames.map((f) => f.event), ['status', 'system', 'status', 'stdout', 'status']);
  assert.deepEqual(frames[3]!.data.payload, 'plain text\nwith a line break');
  assert.deepEqual(frames[4]!.data, { seq: 5, ts: frames[4]!.data.ts, type: 'status', payload: { status: 'failed', error: { kind: 'agent_error', message: 'boom' } } });
});

test('resumed with Last-Event-ID (over ?after): the next seq first, nothing before', async () => {
  const { log } = await setup('stream_resume');
  log.open('r2');
  for (let i = 1; i <= 6; i++) log.append('r2', 'stdout', `line ${i}`);
  await log.flush();
  const sink = recordingSink();
  streamRunEvents({ log, runId: 'r2', lastEventId: '3', after: 1, isFinished: async () => false, sink });
  await waitFor('the replay', () => sink.frames().length === 3);
  log.append('r2', 'status', { status: 'succeeded' });
  // The stream may still be between its replay and following live: wait for the end, then look.
  await waitFor('the end', () => sink.ended === 1);
  assert.deepEqual(sink.frames().map((f) => f.id), [4, 5, 6, 7]);

  const bad = recordingSink();
  streamRunEvents({ log, runId: 'r2', lastEventId: 'not-a-seq', after: 5, isFinished: async () => true, sink: bad });
  await waitFor('the end', () => bad.ended === 1);
  assert.deepEqual(bad.frames().map((f) => f.id), [6, 7]);
});

test('a finished run without a final status event: replayed page by page, then the stream ends', async () => {
  const { log } = await setup('stream_finished');
  log.open('r3');
  for (let i = 1; i <= 2_500; i++) log.append('r3', 'stdout', `line ${i}`);
  await log.close('r3');
  const sink = recordingSink();
  streamRunEvents({ log, runId: 'r3', lastEventId: undefined, isFinished: async () => true, sink });
  await waitFor('the end', () => sink.ended === 1);
  assert.deepEqual(sink.frames().map((f) => f.id), range(1, 2_500));
});

test('keep-alive comments while idle; stop() ends nothing and sends nothing more', async () => {
  const { log } = await setup('stream_keepalive');
  log.open('r4');
  const sink = recordingSink();
  const stop = streamRunEvents({ log, runId: 'r4', lastEventId: undefined, isFinished: async () => false, sink, keepAliveMs: 5 });
  await waitFor('two keep-alives', () => sink.chunks.filter((c) => c === ': keep-alive\n\n').length >= 2);
  log.append('r4', 'stdout', 'one');
  await waitFor('the frame', () => sink.frames().length === 1);
  stop();
  const sent = sink.chunks.length;
  log.append('r4', 'status', { status: 'canceled' });
  assert.equal(sink.chunks.length, sent);
  assert.equal(sink.ended, 0);
});

test('isFinished failing: the run is followed all the same', async () => {
  const { log } = await setup('stream_unknown');
  log.open('r5');
  const sink = recordingSink();
  streamRunEvents({ log, runId: 'r5', lastEventId: undefined, isFinished: () => Promise.reject(new Error('db down')), sink });
  log.append('r5', 'stdout', 'x');
  await waitFor('the frame', () => sink.frames().length === 1);
  log.append('r5', 'status', { status: 'timed_out' });
  await waitFor('the end', () => sink.ended === 1);
  assert.equal(sink.ended, 1);
});

test('a run written by another instance streams through NOTIFY and ends at its final status', async () => {
  const { url, log: writer } = await setup('stream_remote');
  const poolB = createPool(url);
  cleanups.push(() => poolB.end());
  const reader = await EventLog.start({ pool: poolB, log: quiet });
  cleanups.push(() => reader.stop());
  const sink = recordingSink();
  streamRunEvents({ log: reader, runId: 'r6', lastEventId: undefined, isFinished: async () => false, sink });
  writer.open('r6');
  for (let i = 1; i <= 20; i++) writer.append('r6', 'assistant', { i });
  writer.append('r6', 'status', { status: 'succeeded' });
  writer.append('r6', 'stdout', 'never streamed');
  await writer.close('r6');
  await waitFor('the end', () => sink.ended === 1);
  assert.deepEqual(sink.frames().map((f) => f.id), range(1, 21));
});
