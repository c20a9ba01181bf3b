// The wire mechanism (providers/wire.ts) in one proxied call: a deployment whose provider speaks the
// Anthropic dialect with another path, body, per-request signature and stream framing. The upstream
// is a real HTTP server that checks what a provider would check (the path for stream or not, the
// body it expects, the signature over exactly the bytes sent) and answers in its own framing (a
// length-prefixed frame per SSE event, written a few bytes at a time); the client gets ordinary
// Anthropic SSE, or OpenAI chat chunks when it speaks OpenAI, and the usage is read for spend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfigText } from '../../src/config/load';
import { buildSnapshot } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import { scanBody } from '../../src/gateway/body-scan';
import { OPEN } from '../../src/gateway/identity';
import { ProxyCall, type CallContext, type Endpoint } from '../../src/gateway/proxy-call';
import type { Snapshot, Target } from '../../src/gateway/snapshot';
import { closePools } from '../../src/gateway/upstream-pool';
import { registerWire, type WireDecoder } from '../../src/providers/wire';
import type { Exchange, HeaderList } from '../../src/server/exchange';
import { DeploymentHealth } from '../../src/state/deployment-health';

const SECRET = 'test-wire-secret-0042';
const sig = (path: string, body: Buffer) => createHash('sha256').update(SECRET).update(path).update(body).digest('hex');

/** The test provider's framing: 4-byte big-endian length, then that many bytes of one SSE event. */
function frame(event: string): Buffer {
  const b = Buffer.from(event);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(b.length);
  return Buffer.concat([head, b]);
}

class FrameDecoder implements WireDecoder {
  private held = Buffer.alloc(0);
  push(chunk: Buffer): Buffer {
    this.held = Buffer.concat([this.held, chunk]);
    const out: Buffer[] = [];
    while (this.held.length >= 4 && this.held.length >= 4 + this.held.readUInt32BE(0)) {
      const n = this.held.readUInt32BE(0);
      out.push(this.held.subarray(4, 4 + n));
      this.held = this.held.subarray(4 + n);
    }
    return Buffer.concat(out);
  }
  end(): Buffer {
    return this.held.length ? Buffer.from('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"cut"}}\n\n') : Buffer.alloc(0);
  }
}

let signings = 0;
registerWire('test-framed', (spec, t) => ({
  dialectHeaders: false,
  path: (stream) => `/models/${encodeURIComponent(t.upstreamModel)}/${stream ? 'stream' : 'invoke'}`,
  body(body, _stream, headers) {
    // The test's provider wants the model out and a version in: a splice, like Bedrock's.
    const obj = JSON.parse(body.toString()) as Record<string, unknown>;
    delete obj.model;
    delete obj.stream;
    return Buffer.from(JSON.stringify({ test_version: 'v1', beta: headers['anthropic-beta'] ?? null, ...obj }));
  },
  sign(_method, path, _headers, body) {
    signings++;
    const h = ['x-test-signature', sig(path, Buffer.concat([body].flat()))];
    return spec.async ? Promise.resolve(h) : h;
  },
  decoder: () => new FrameDecoder(),
  response: (body) => {
    const o = JSON.parse(body.toString()) as { wrapped: unknown };
    return Buffer.from(JSON.stringify(o.wrapped));
  },
  countTokens: null,
}));

const MESSAGE = {
  id: 'msg_wire_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-test',
  content: [{ type: 'text', text: 'hello from the wire' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 11, output_tokens: 7 },
};

const EVENTS = [
  `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { ...MESSAGE, content: [], stop_reason: null, usage: { input_tokens: 11, output_tokens: 0 } } })}\n\n`,
  `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n`,
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello from the wire"}}\n\n`,
  `event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n`,
  `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}\n\n`,
  `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
];

interface Seen {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

async function upstream(): Promise<{ server: Server; origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      seen.push({ path: req.url!, body: JSON.parse(raw.toString()) as Record<string, unknown>, headers: req.headers });
      if (req.headers['x-test-signature'] !== sig(req.url!, raw)) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"bad signature"}');
        return;
      }
      if (req.url!.endsWith('/invoke')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ wrapped: MESSAGE }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-test-frames' });
      // Three bytes per write: frame headers and events split everywhere.
      const all = Buffer.concat(EVENTS.map(frame));
      let i = 0;
      const next = (): void => {
        if (i >= all.length) return void res.end();
        res.write(all.subarray(i, (i += 3)), next);
      };
      next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** An Exchange that records what the gateway answered. */
class RecordedExchange implements Exchange {
  readonly method = 'POST';
  readonly query = '';
  readonly startedAt = performance.now();
  aborted = false;
  status = 0;
  headersOut: HeaderList = [];
  out: Buffer[] = [];
  readonly done: Promise<void>;
  private finish!: () => void;
  constructor(
    readonly path: string,
    readonly headers: Record<string, string>,
  ) {
    this.done = new Promise((r) => (this.finish = r));
  }
  holdBody(): void {}
  readBody(): void {}
  onAbort(): void {}
  remoteAddress(): string {
    return '';
  }
  respond(status: number, headers: HeaderList, body: string | Buffer): void {
    this.status = status;
    this.headersOut = headers;
    this.out.push(Buffer.from(body));
    this.finish();
  }
  startStream(status: number, headers: HeaderList): void {
    this.status = status;
    this.headersOut = headers;
  }
  write(chunk: Buffer | string): boolean {
    this.out.push(Buffer.from(chunk));
    return true;
  }
  onWritable(): void {}
  end(chunk?: Buffer | string): void {
    if (chunk) this.out.push(Buffer.from(chunk));
    this.finish();
  }
  destroy(): void {
    this.finish();
  }
  text(): string {
    return Buffer.concat(this.out).toString();
  }
  header(name: string): string | undefined {
    const i = this.headersOut.findIndex((h, j) => j % 2 === 0 && h === name);
    return i < 0 ? undefined : this.headersOut[i + 1];
  }
}

function snapshotFor(origin: string, async: boolean): { snap: Snapshot; t: Target } {
  const cfg = parseConfigText(`model_list:\n  - model_name: wired\n    litellm_params: { model: anthropic/claude-test, api_key: unused-key-123, api_base: "${origin}" }\n`, { baseDir: __dirname, env: {} });
  const snap = buildSnapshot(cfg, { version: 1, detailedDebug: false, env: {}, slots: new SlotTable(64) });
  const t = snap.groups.get('wired')!.targets[0]!;
  // The anthropic target as a provider with a wire would build it: no header of its own.
  t.wire = { kind: 'test-framed', async };
  t.headers = [];
  return { snap, t };
}

async function call(snap: Snapshot, endpoint: Endpoint, path: string, body: object, headers: Record<string, string> = {}) {
  const raw = Buffer.from(JSON.stringify(body));
  const scan = scanBody(raw);
  const ex = new RecordedExchange(path, headers);
  const group = snap.groups.get('wired')!;
  const ctx: CallContext = { identity: OPEN, charge: null, endUser: null, journal: null, entities: null, fallbacks: null };
  new ProxyCall(ex, snap, DeploymentHealth.allocate(64), group, group.targets, raw, scan, endpoint, ctx).start();
  await ex.done;
  return ex;
}

const sseData = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));

for (const async of [false, true]) {
  const how = async ? 'a signature that is awaited' : 'a signature given at once';

  test(`wire, ${how}: an Anthropic client's stream arrives as the SSE events the provider framed, path and body mapped`, async () => {
    const up = await upstream();
    try {
      const { snap } = snapshotFor(up.origin, async);
      const before = signings;
      const ex = await call(snap, 'messages', '/v1/messages', { model: 'wired', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] }, { 'anthropic-beta': 'b-1' });
      assert.equal(ex.status, 200);
      assert.equal(ex.header('content-type'), 'text/event-stream');
      assert.equal(ex.text(), EVENTS.join(''), 'event for event, byte for byte');
      assert.equal(signings, before + 1);
      assert.equal(up.seen.length, 1);
      assert.equal(up.seen[0]!.path, '/models/claude-test/stream');
      assert.deepEqual(up.seen[0]!.body, { test_version: 'v1', beta: 'b-1', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(up.seen[0]!.headers['anthropic-version'], undefined, 'the wire said the dialect headers stay out');
    } finally {
      up.server.close();
    }
  });

  test(`wire, ${how}: a whole answer goes through the wire's response mapping`, async () => {
    const up = await upstream();
    try {
      const { snap } = snapshotFor(up.origin, async);
      const ex = await call(snap, 'messages', '/v1/messages', { model: 'wired', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(ex.status, 200);
      assert.deepEqual(JSON.parse(ex.text()), MESSAGE);
      assert.equal(up.seen[0]!.path, '/models/claude-test/invoke');
    } finally {
      up.server.close();
    }
  });
}

test('wire: an OpenAI chat client reaches the wired Anthropic deployment translated, stream and not', async () => {
  const up = await upstream();
  try {
    const { snap } = snapshotFor(up.origin, false);
    const whole = await call(snap, 'chat', '/v1/chat/completions', { model: 'wired', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(whole.status, 200);
    const answer = JSON.parse(whole.text()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
    assert.equal(answer.choices[0]!.message.content, 'hello from the wire');
    assert.deepEqual([answer.usage.prompt_tokens, answer.usage.completion_tokens], [11, 7]);
    const streamed = await call(snap, 'chat', '/v1/chat/completions', { model: 'wired', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    const chunks = sseData(streamed.text());
    assert.equal(chunks.at(-1), '[DONE]');
    const parsed = chunks.slice(0, -1).map((c) => JSON.parse(c) as { choices: { delta?: { content?: string } }[]; usage?: { completion_tokens: number } });
    assert.equal(parsed.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'hello from the wire');
    assert.equal(parsed.find((c) => c.usage)?.usage?.completion_tokens, 7);
    assert.equal(up.seen[1]!.path, '/models/claude-test/stream');
  } finally {
    up.server.close();
  }
});

test('wire: a signature the provider refuses is the provider error in the client dialect', async () => {
  const up = await upstream();
  try {
    const { snap } = snapshotFor(up.origin, false);
    // A signature made with the wrong secret.
    registerWire('test-badsig', (_spec, t) => ({
      dialectHeaders: false,
      path: () => `/models/${t.upstreamModel}/invoke`,
      body: (b) => b,
      sign: () => ['x-test-signature', 'not-it'],
      decoder: () => null,
      countTokens: null,
    }));
    snap.groups.get('wired')!.targets[0]!.wire = { kind: 'test-badsig' };
    const ex = await call(snap, 'messages', '/v1/messages', { model: 'wired', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ex.status, 403);
    const err = JSON.parse(ex.text()) as { type: string; error: { type: string; message: string } };
    assert.equal(err.type, 'error');
    assert.equal(err.error.type, 'permission_error');
    assert.match(err.error.message, /bad signature/);
  } finally {
    up.server.close();
  }
});

test('wire: a signature that cannot be made (no credentials) fails the attempt like an unreachable upstream', async () => {
  const up = await upstream();
  try {
    const { snap } = snapshotFor(up.origin, false);
    registerWire('test-nocreds', () => ({
      dialectHeaders: false,
      path: () => '/never',
      body: (b) => b,
      sign: () => Promise.reject(new Error('no credentials in the chain')),
      decoder: () => null,
      countTokens: null,
    }));
    snap.groups.get('wired')!.targets[0]!.wire = { kind: 'test-nocreds' };
    snap.routing.numRetries = 0;
    const ex = await call(snap, 'chat', '/v1/chat/completions', { model: 'wired', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ex.status, 502);
    assert.match(JSON.parse(ex.text()).error.message, /no credentials in the chain/);
    assert.equal(up.seen.length, 0, 'nothing was sent unsigned');
  } finally {
    up.server.close();
    await closePools();
  }
});

test('wire: a retry that moves from a wired deployment to a plain one gets the plain one’s stream as it is', async () => {
  registerWire('test-framed-unsigned', () => ({
    dialectHeaders: false,
    path: () => '/never',
    body: (b) => b,
    sign: () => Promise.reject(new Error('no credentials')),
    decoder: () => new FrameDecoder(),
    countTokens: null,
  }));
  const cfg = parseConfigText(
    `model_list:\n  - model_name: wired\n    litellm_params: { model: anthropic/claude-test, api_key: unused-key-123, api_base: "http://127.0.0.1:9", order: 1 }\n  - model_name: wired\n    litellm_params: { model: mock/claude-test, order: 2 }\n`,
    { baseDir: __dirname, env: {} },
  );
  const snap = buildSnapshot(cfg, { version: 1, detailedDebug: false, env: {}, slots: new SlotTable(64) });
  const [wired, plain] = snap.groups.get('wired')!.targets;
  wired!.wire = { kind: 'test-framed-unsigned' };
  assert.equal(plain!.provider, 'mock');
  snap.routing.numRetries = 1;
  const ex = await call(snap, 'messages', '/v1/messages', { model: 'wired', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(ex.status, 200);
  assert.equal(ex.header('x-litellm-attempted-retries'), '1');
  const events = sseData(ex.text()).map((d) => JSON.parse(d).type);
  assert.equal(events[0], 'message_start');
  assert.equal(events.at(-1), 'message_stop');
});
