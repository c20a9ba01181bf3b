// Tests for the mock LLM upstream over real HTTP on 127.0.0.1. Each test starts its own mock and
// closes it, so connection counts are per-test and the process exits when done.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as http from 'node:http';
import { Client } from 'undici';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { openaiStream, anthropicStream, estimateTokens, openaiErrorBody, anthropicErrorBody } from '../support/mock-responses';

async function withMock(fn: (m: MockUpstream) => Promise<void>, opts?: { record?: boolean }): Promise<void> {
  const m = await startMockUpstream(opts);
  try {
    await fn(m);
  } finally {
    await m.close();
  }
}

function post(m: MockUpstream, p: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(m.url + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

interface SseEvent { event?: string; data: string }

function parseSse(text: string): SseEvent[] {
  return text.split('\n\n').filter((b) => b.length > 0).map((block) => {
    const ev: SseEvent = { data: '' };
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.data = line.slice(6);
    }
    return ev;
  });
}

/** Read a body chunk by chunk, returning what arrived and the error that ended it (if any). */
async function readAll(res: Response): Promise<{ text: string; error?: unknown; chunks: number }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  let chunks = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, chunks };
      chunks++;
      text += dec.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error, chunks };
  }
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const chatBody = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
const msgBody = { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

test('openai non-stream: chat.completion shape on all three routes', async () => {
  await withMock(async (m) => {
    for (const p of ['/v1/chat/completions', '/chat/completions', '/openai/deployments/dep1/chat/completions?api-version=2024-10-21']) {
      const res = await post(m, p, chatBody);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /application\/json/);
      const j = await res.json() as any;
      assert.match(j.id, /^chatcmpl-/);
      assert.equal(j.object, 'chat.completion');
      assert.equal(typeof j.created, 'number');
      assert.equal(j.model, 'gpt-test');
      assert.deepEqual(j.choices, [{ index: 0, message: { role: 'assistant', content: 'Hello from mock' }, finish_reason: 'stop' }]);
      assert.equal(j.usage.prompt_tokens, Math.ceil(Buffer.byteLength(JSON.stringify(chatBody)) / 4));
      assert.equal(j.usage.total_tokens, j.usage.prompt_tokens + j.usage.completion_tokens);
    }
    // Azure without a model in the body reports the deployment name; ids are unique per response.
    const a = await (await post(m, '/openai/deployments/dep1/chat/completions?api-version=x', { messages: [] })).json() as any;
    const b = await (await post(m, '/v1/chat/completions', chatBody)).json() as any;
    assert.equal(a.model, 'dep1');
    assert.notEqual(a.id, b.id);
    assert.equal(m.requests[2]!.query, 'api-version=2024-10-21');
    assert.equal(m.requests[2]!.path, '/openai/deployments/dep1/chat/completions');
  });
});

test('openai stream: role chunk, N deltas, finish chunk, [DONE]; include_usage adds a usage chunk', async () => {
  await withMock(async (m) => {
    const res = await post(m, '/v1/chat/completions', { ...chatBody, stream: true });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = parseSse(await res.text());
    assert.equal(events.length, 1 + 8 + 1 + 1);
    assert.equal(events.at(-1)!.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'gpt-test');
      assert.equal(c.id, chunks[0].id);
      assert.equal('usage' in c, false);
    }
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.deepEqual(chunks.slice(1, 9).map((c) => c.choices[0].delta.content), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `tok${i} `));
    assert.deepEqual(chunks[9].choices[0], { index: 0, delta: {}, finish_reason: 'stop' });

    m.setDefault({ deltas: 3 });
    const withUsage = parseSse(await (await post(m, '/v1/chat/completions', {
      ...chatBody, stream: true, stream_options: { include_usage: true },
    })).text());
    assert.equal(withUsage.length, 1 + 3 + 1 + 1 + 1);
    assert.equal(withUsage.at(-1)!.data, '[DONE]');
    const usage = JSON.parse(withUsage.at(-2)!.data);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, 3);
    assert.equal(usage.usage.total_tokens, usage.usage.prompt_tokens + 3);
  });
});

test('anthropic non-stream: message shape, query string ignored', async () => {
  await withMock(async (m) => {
    const res = await post(m, '/v1/messages?beta=true', msgBody, { headers: { 'content-type': 'application/json', 'x-api-key': 'k' } });
    assert.equal(res.status, 200);
    const j = await res.json() as any;
    assert.match(j.id, /^msg_/);
    assert.equal(j.type, 'message');
    assert.equal(j.role, 'assistant');
    assert.equal(j.model, 'claude-test');
    assert.deepEqual(j.content, [{ type: 'text', text: 'Hello from mock' }]);
    assert.equal(j.stop_reason, 'end_turn');
    assert.equal(j.stop_sequence, null);
    assert.equal(j.usage.input_tokens, estimateTokens(Buffer.byteLength(JSON.stringify(msgBody))));
    assert.equal(j.usage.cache_creation_input_tokens, 0);
    assert.equal(j.usage.cache_read_input_tokens, 0);
    assert.ok(j.usage.output_tokens > 0);
  });
});

test('anthropic stream: event order and data types match', async () => {
  await withMock(async (m) => {
    m.enqueue({ deltas: 4 });
    const res = await post(m, '/v1/messages', { ...msgBody, stream: true });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = parseSse(await res.text());
    assert.deepEqual(events.map((e) => e.event), [
      'message_start', 'content_block_start',
      'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta',
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    data.forEach((d, i) => assert.equal(d.type, events[i]!.event));
    assert.equal(data[0].message.model, 'claude-test');
    assert.equal(data[0].message.usage.output_tokens, 1);
    assert.ok(data[0].message.usage.input_tokens > 0);
    assert.deepEqual(data[2].delta, { type: 'text_delta', text: 'tok0 ' });
    assert.equal(data[7].delta.stop_reason, 'end_turn');
    assert.equal(data[7].usage.output_tokens, 4);
  });
});

test('count_tokens, models, unknown route 404 and invalid JSON 400 per dialect', async () => {
  await withMock(async (m) => {
    const ct = await (await post(m, '/v1/messages/count_tokens', msgBody)).json() as any;
    assert.equal(ct.input_tokens, estimateTokens(Buffer.byteLength(JSON.stringify(msgBody))));

    const models = await (await fetch(m.url + '/v1/models')).json() as any;
    assert.equal(models.object, 'list');
    assert.deepEqual(models.data.map((d: any) => d.id), ['mock-model']);

    const nf = await fetch(m.url + '/v1/nope');
    assert.equal(nf.status, 404);
    const nfj = await nf.json() as any;
    assert.equal(nfj.error.code, 'not_found');

    const badOai = await post(m, '/v1/chat/completions', '{not json');
    assert.equal(badOai.status, 400);
    assert.equal((await badOai.json() as any).error.type, 'invalid_request_error');
    const badAnt = await post(m, '/v1/messages', '[1,2]');
    assert.equal(badAnt.status, 400);
    assert.deepEqual(Object.keys(await badAnt.json() as any).sort(), ['error', 'type']);
  });
});

test('status errors in both dialects carry the extra headers', async () => {
  await withMock(async (m) => {
    m.enqueue(
      { status: 429, errorMessage: 'slow down', headers: { 'retry-after': '1' } },
      { status: 529, headers: { 'retry-after': '2' } },
      { status: 500 },
    );
    const r1 = await post(m, '/v1/chat/completions', chatBody);
    assert.equal(r1.status, 429);
    assert.equal(r1.headers.get('retry-after'), '1');
    assert.deepEqual(await r1.json(), openaiErrorBody(429, 'slow down'));
    assert.deepEqual(openaiErrorBody(429, 'x'), { error: { message: 'x', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });

    const r2 = await post(m, '/v1/messages', { ...msgBody, stream: true });
    assert.equal(r2.status, 529);
    assert.equal(r2.headers.get('retry-after'), '2');
    const j2 = await r2.json() as any;
    assert.equal(j2.type, 'error');
    assert.equal(j2.error.type, 'overloaded_error');
    assert.equal(typeof j2.error.message, 'string');

    const r3 = await post(m, '/v1/messages', msgBody);
    assert.equal(r3.status, 500);
    assert.deepEqual(await r3.json(), anthropicErrorBody(500, 'mock error 500'));
    assert.equal(anthropicErrorBody(500, 'm').error.type, 'api_error');
  });
});

test('enqueue order and precedence: body mock_behavior > queue > default (merged per field)', async () => {
  await withMock(async (m) => {
    const text = async (body: object) => ((await (await post(m, '/v1/chat/completions', body)).json()) as any).choices[0].message.content;
    m.setDefault({ text: 'default' });
    m.enqueue({ text: 'q1' }, { text: 'q2' });
    assert.equal(await text(chatBody), 'q1');
    // The body field wins, and the request still consumes its queue entry (q2).
    assert.equal(await text({ ...chatBody, mock_behavior: { text: 'body' } }), 'body');
    assert.equal(await text(chatBody), 'default');

    // Fields merge: the default's header survives a queued status.
    m.setDefault({ headers: { 'x-mock': 'd' } });
    m.enqueue({ status: 503 });
    const r = await post(m, '/v1/chat/completions', chatBody);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('x-mock'), 'd');
    await r.arrayBuffer();

    m.reset();
    assert.equal(await text(chatBody), 'Hello from mock');
    assert.equal(m.requests.length, 1);
  });
});

test('delayMs delays the response headers; paceMs spaces the deltas', async () => {
  await withMock(async (m) => {
    let t0 = Date.now();
    const r = await post(m, '/v1/chat/completions', { ...chatBody, mock_behavior: { delayMs: 150 } });
    assert.ok(Date.now() - t0 >= 140, `headers after ${Date.now() - t0}ms`);
    await r.arrayBuffer();

    t0 = Date.now();
    const s = await post(m, '/v1/chat/completions', { ...chatBody, stream: true, mock_behavior: { deltas: 4, paceMs: 60 } });
    const firstByte = Date.now() - t0;
    const { text, chunks } = await readAll(s);
    const total = Date.now() - t0;
    assert.ok(total >= 170, `stream took ${total}ms, expected >= 3 x 60ms`);
    assert.ok(firstByte < 120, `headers should not wait for pacing (${firstByte}ms)`);
    assert.ok(chunks >= 4, `paced events arrive separately (${chunks} reads)`);
    assert.equal(parseSse(text).length, 1 + 4 + 1 + 1);
  });
});

test('dropAfterDeltas: the stream dies mid-way in both dialects', async () => {
  await withMock(async (m) => {
    const o = await readAll(await post(m, '/v1/chat/completions', { ...chatBody, stream: true, mock_behavior: { dropAfterDeltas: 2 } }));
    assert.equal((o.error as any)?.cause?.code, 'UND_ERR_SOCKET', 'client sees the socket die');
    assert.equal((o.text.match(/tok\d/g) ?? []).length, 2);
    assert.ok(!o.text.includes('[DONE]'));

    m.enqueue({ dropAfterDeltas: 0, paceMs: 10 });
    const a = await readAll(await post(m, '/v1/messages', { ...msgBody, stream: true }));
    assert.ok(a.error, 'client sees an error');
    assert.ok(a.text.includes('message_start'));
    assert.ok(!a.text.includes('content_block_delta'));
    assert.ok(!a.text.includes('message_stop'));
    await waitFor(() => m.activeRequests() === 0, 'dropped streams to close');
  });
});

test('reset: the client gets a socket error', async () => {
  await withMock(async (m) => {
    m.enqueue({ reset: true });
    await assert.rejects(post(m, '/v1/chat/completions', chatBody),
      (e: any) => e?.name === 'TypeError' && e.cause?.code === 'ECONNRESET');
    // The next request, on a fresh connection, is answered normally.
    assert.equal((await post(m, '/v1/chat/completions', chatBody)).status, 200);
  });
});

test('hang: the request stays open until the client aborts, then its socket is closed', async () => {
  await withMock(async (m) => {
    m.setDefault({ hang: true });
    // node:http with agent:false: aborting destroys exactly this socket and opens no other.
    const ac = new AbortController();
    const req = http.request(m.url + '/v1/messages', { method: 'POST', agent: false, signal: ac.signal });
    const failed = new Promise<Error>((resolve) => req.once('error', resolve));
    req.once('response', () => assert.fail('a hanging upstream must not answer'));
    req.end(JSON.stringify(msgBody));
    await waitFor(() => m.activeRequests() === 1, 'the request to arrive');
    assert.equal(m.openConnections(), 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(m.activeRequests(), 1, 'still hanging');
    ac.abort();
    assert.equal((await failed).name, 'AbortError');
    await waitFor(() => m.activeRequests() === 0, 'activeRequests to return to 0');
    await waitFor(() => m.openConnections() === 0, 'the upstream socket to close');
  });
});

test('hang with an undici client: abort releases the request; sockets go when the client does', async () => {
  await withMock(async (m) => {
    m.enqueue({ hang: true });
    const client = new Client(m.url);
    try {
      const ac = new AbortController();
      const p = client.request({ path: '/v1/chat/completions', method: 'POST', body: JSON.stringify(chatBody), signal: ac.signal });
      await waitFor(() => m.activeRequests() === 1, 'the request to arrive');
      ac.abort();
      await assert.rejects(p, { name: 'AbortError' });
      await waitFor(() => m.activeRequests() === 0, 'activeRequests to return to 0');
      // undici replaces the aborted connection with a fresh idle one, so openConnections() need
      // not reach 0 while the client lives; it must once the client is destroyed.
    } finally {
      await client.destroy();
    }
    await waitFor(() => m.openConnections() === 0, 'the client sockets to close');
  });
});

test('recording captures method, path, query, headers, body and json; record:false keeps nothing', async () => {
  await withMock(async (m) => {
    const before = Date.now();
    await (await post(m, '/v1/chat/completions?x=1', chatBody, { headers: { 'content-type': 'application/json', authorization: 'Bearer sk-1' } })).arrayBuffer();
    await (await fetch(m.url + '/v1/models')).arrayBuffer();
    assert.equal(m.requests.length, 2);
    const r = m.requests[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/v1/chat/completions');
    assert.equal(r.query, 'x=1');
    assert.equal(r.headers.authorization, 'Bearer sk-1');
    assert.ok(Buffer.isBuffer(r.body));
    assert.equal(r.body.toString(), JSON.stringify(chatBody));
    assert.deepEqual(r.json, chatBody);
    assert.ok(r.receivedAt >= before && r.receivedAt <= Date.now());
    assert.equal(m.requests[1]!.method, 'GET');
    assert.equal(m.requests[1]!.json, undefined);
  });
  await withMock(async (m) => {
    assert.equal((await post(m, '/v1/chat/completions', chatBody)).status, 200);
    assert.equal(m.requests.length, 0);
  }, { record: false });
});

/** Read a body as raw bytes, chunk by chunk, with the error that ended it (if any). */
async function readBytes(res: Response): Promise<{ bytes: Buffer; error?: unknown; chunks: number }> {
  const reader = res.body!.getReader();
  const parts: Buffer[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(parts), chunks: parts.length };
      parts.push(Buffer.from(value));
    }
  } catch (error) {
    return { bytes: Buffer.concat(parts), error, chunks: parts.length };
  }
}

// Multi-byte characters (2, 3 and 4 bytes) and a \r\n pair, so small pieces split them.
const RECORDED = 'event: message_start\r\ndata: {"t":"Schön — ✓ 🚀"}\r\n\r\nevent: message_stop\ndata: {}\n\n';

test('replay: a recorded SSE stream is written byte for byte, whatever the route asked', async () => {
  await withMock(async (m) => {
    m.enqueue({ sse: RECORDED, headers: { 'request-id': 'req_1' } });
    const res = await post(m, '/v1/chat/completions', { ...chatBody, stream: false });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('request-id'), 'req_1');
    const { bytes, error } = await readBytes(res);
    assert.equal(error, undefined);
    assert.ok(bytes.equals(Buffer.from(RECORDED)));
  });
});

test('replay: chunkBytes writes small pieces that split events and UTF-8 characters', async () => {
  await withMock(async (m) => {
    m.enqueue({ sse: Buffer.from(RECORDED), chunkBytes: 3, paceMs: 2 });
    const { bytes, chunks } = await readBytes(await post(m, '/v1/messages', { ...msgBody, stream: true }));
    assert.ok(bytes.equals(Buffer.from(RECORDED)), 'the same bytes, reassembled');
    // Paced pieces arrive as separate reads; at 3 bytes a piece most reads end inside a character or line.
    assert.ok(chunks >= Buffer.byteLength(RECORDED) / 3 / 2, `${chunks} reads`);
  });
});

test('replay: dropAfterBytes cuts the stream there, mid-event', async () => {
  await withMock(async (m) => {
    m.enqueue({ sse: RECORDED, dropAfterBytes: 30, chunkBytes: 7 });
    const { bytes, error } = await readBytes(await post(m, '/v1/messages', { ...msgBody, stream: true }));
    assert.ok(error, 'the client sees the socket die');
    assert.equal(bytes.toString(), RECORDED.slice(0, 30));
    await waitFor(() => m.activeRequests() === 0, 'the cut stream to close');
  });
});

test('replay: json answers a recorded body with its status; /v1/responses answers only replays', async () => {
  await withMock(async (m) => {
    const recorded = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    m.enqueue({ json: recorded, status: 529 }, { json: { input_tokens: 42 } });
    const e = await post(m, '/v1/messages', msgBody);
    assert.equal(e.status, 529);
    assert.deepEqual(await e.json(), recorded);
    // An Anthropic-compatible server under a path prefix is routed too.
    const ct = await post(m, '/vllm/v1/messages/count_tokens', msgBody);
    assert.deepEqual(await ct.json(), { input_tokens: 42 });
    assert.equal(m.requests.at(-1)!.path, '/vllm/v1/messages/count_tokens');

    const plain = await post(m, '/v1/responses', { model: 'gpt', input: 'hi' });
    assert.equal(plain.status, 404);
    await plain.arrayBuffer();
    m.enqueue({ json: { object: 'response', status: 'completed' } });
    assert.deepEqual(await (await post(m, '/v1/responses', { model: 'gpt', input: 'hi' })).json(), { object: 'response', status: 'completed' });
  });
});

test('pure builders: stream scripts mark where the deltas are', () => {
  const o = openaiStream({ id: 'i', model: 'm', created: 1, promptTokens: 2, deltas: 5, includeUsage: false });
  assert.equal(o.events.length, 1 + 5 + 1 + 1);
  assert.match(o.events[o.firstDelta]!, /tok0 /);
  assert.match(o.events[o.firstDelta + 4]!, /tok4 /);
  const a = anthropicStream({ id: 'i', model: 'm', inputTokens: 2, deltas: 0 });
  assert.equal(a.events.length, 5);
  assert.match(a.events[a.firstDelta]!, /^event: content_block_stop\n/);
});

test('CLI: prints MOCK_READY, applies --deltas, answers, exits cleanly on SIGTERM', async () => {
  const main = path.join(__dirname, '..', 'support', 'mock-upstream-main.js');
  const child = spawn(process.execPath, [main, '--port', '0', '--host', '127.0.0.1', '--no-record', '--deltas', '3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let out = '';
    const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no MOCK_READY; got ${JSON.stringify(out)}`)), 5000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('MOCK_READY '));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice('MOCK_READY '.length)));
        }
      });
      child.once('exit', () => reject(new Error('mock exited early')));
    });
    assert.equal(ready.url, `http://127.0.0.1:${ready.port}`);
    assert.ok(ready.port > 0);
    const models = await (await fetch(ready.url + '/v1/models')).json() as any;
    assert.equal(models.data[0].id, 'mock-model');
    const s = await fetch(ready.url + '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...chatBody, stream: true }) });
    assert.equal(parseSse(await s.text()).length, 1 + 3 + 1 + 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(out, `MOCK_READY ${JSON.stringify(ready)}\n`, 'exactly one stdout line');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('CLI: --exit-on-stdin-close exits once the parent closes its stdin (a killed bench takes the mock along)', async () => {
  const main = path.join(__dirname, '..', 'support', 'mock-upstream-main.js');
  const child = spawn(process.execPath, [main, '--port', '0', '--host', '127.0.0.1', '--no-record', '--exit-on-stdin-close'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no MOCK_READY; got ${JSON.stringify(out)}`)), 5000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /MOCK_READY (\{.*\})/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve((JSON.parse(m[1]!) as { url: string }).url);
        }
      });
    });
    assert.equal((await fetch(url + '/v1/models')).status, 200, 'still serving while stdin is open');
    child.stdin!.end();
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
