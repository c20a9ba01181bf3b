// A scriptable mock LLM upstream (OpenAI chat completions, Anthropic Messages, and the OpenAI
// Responses API for replays and scripted replies) over real HTTP.
// Used in-process by integration tests and as its own process by the benchmark harness, so the
// hot path is kept cheap: plain node:http with keep-alive and no Nagle, bodies serialized once
// per (shape, second) and only the id spliced in per request, no per-request allocations beyond
// what the scripted behaviour needs.

import * as http from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  MOCK_MODEL, DEFAULT_TEXT, DEFAULT_DELTAS, estimateTokens,
  openaiCompletion, openaiStream, anthropicMessage, anthropicStream, countTokensBody, modelsList, errorBody,
} from './mock-responses';
import { scriptedAnswer, type ScriptedApi, type ScriptedReply } from './mock-scripted';

export interface MockBehavior {
  /** >= 400: reply with this status and an error body in the endpoint's dialect. < 400: success status. */
  status?: number;
  errorMessage?: string;
  /** Extra response headers (success and error alike), e.g. {'retry-after': '1'}. */
  headers?: Record<string, string>;
  /** Wait this long before sending response headers (also delays reset). */
  delayMs?: number;
  /** Streams: number of content deltas (default 8). */
  deltas?: number;
  /** Streams: delay between consecutive deltas (default 0). */
  paceMs?: number;
  /** Streams: destroy the socket after this many deltas, before the stream's tail (clamped to `deltas`). */
  dropAfterDeltas?: number;
  /** Never answer; the socket stays open until the client gives up or the mock is closed. */
  hang?: boolean;
  /** Destroy the socket (TCP RST) without any response, once the request body has been read. */
  reset?: boolean;
  /** Non-stream reply text (default 'Hello from mock'). */
  text?: string;
  /**
   * Replay: answer with this recorded SSE stream, written byte for byte (content-type
   * text/event-stream, status from `status`, default 200), whatever the request asked.
   */
  sse?: string | Buffer;
  /** Replay: answer with this body (JSON-serialized) and `status` (default 200), e.g. a recorded answer or error. */
  json?: unknown;
  /**
   * Replay of `sse`: write it in pieces of this many bytes, each its own write once the previous
   * one was flushed, so events, lines, `\r\n` pairs and UTF-8 characters are split across TCP
   * segments wherever the count falls. `paceMs` spaces the pieces (default: the next tick).
   */
  chunkBytes?: number;
  /** Replay of `sse`: destroy the socket once this many bytes went out (a cut wherever it falls, mid-event too). */
  dropAfterBytes?: number;
  /**
   * Script: answer a turn (chat completions, messages or responses) with this text or tool call,
   * in the route's own framing, streamed when the request asks (see mock-scripted.ts). A function
   * decides from the request, so one default can script a whole agent loop.
   */
  reply?: ScriptedReply | ((request: ScriptedRequest) => ScriptedReply);
}

/** What a scripted reply is decided from: the API the request came in on and its parsed body. */
export interface ScriptedRequest {
  api: ScriptedApi;
  json: any;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string; // without the leading '?'
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json?: any;
  receivedAt: number; // Date.now() when the request head arrived
}

export interface MockUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  setDefault(b: MockBehavior): void;
  enqueue(...b: MockBehavior[]): void;
  reset(): void;
  openConnections(): number;
  activeRequests(): number;
  close(): Promise<void>;
}

type Route =
  | { kind: 'chat'; dialect: 'openai'; deployment?: string }
  | { kind: 'messages' | 'count_tokens'; dialect: 'anthropic' }
  | { kind: 'embeddings'; dialect: 'openai' }
  | { kind: 'responses'; dialect: 'openai' }
  | { kind: 'models'; dialect: 'openai' };

const CHAT: Route = { kind: 'chat', dialect: 'openai' };
const MESSAGES: Route = { kind: 'messages', dialect: 'anthropic' };
const COUNT_TOKENS: Route = { kind: 'count_tokens', dialect: 'anthropic' };
const EMBEDDINGS: Route = { kind: 'embeddings', dialect: 'openai' };
const MODELS: Route = { kind: 'models', dialect: 'openai' };
const RESPONSES: Route = { kind: 'responses', dialect: 'openai' };
const AZURE_CHAT = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

function matchRoute(method: string | undefined, path: string): Route | undefined {
  if (method === 'POST') {
    if (path === '/v1/chat/completions' || path === '/chat/completions') return CHAT;
    // Suffixes: an Anthropic-compatible server may live under a path prefix (api_base `…/vllm`).
    if (path.endsWith('/v1/messages')) return MESSAGES;
    if (path.endsWith('/v1/messages/count_tokens')) return COUNT_TOKENS;
    if (path === '/v1/responses' || path === '/responses') return RESPONSES;
    if (path === '/v1/embeddings' || path === '/embeddings' || /^\/openai\/deployments\/[^/]+\/embeddings$/.test(path)) return EMBEDDINGS;
    const m = AZURE_CHAT.exec(path);
    if (m) return { kind: 'chat', dialect: 'openai', deployment: m[1]! };
  } else if (method === 'GET' && path === '/v1/models') {
    return MODELS;
  }
  return undefined;
}

// Serialized bodies are cached with this sentinel where the per-request id goes; rendering is
// then a join instead of a JSON.stringify. The cache is dropped every second because OpenAI
// bodies embed `created` (seconds), which also bounds its size.
const ID_SLOT = '@@MOCK_ID@@';

/** A serialized body or stream, split at ID_SLOT; firstDelta as in StreamScript (0 for bodies). */
interface Template {
  parts: string[][];
  firstDelta: number;
}

class TemplateCache {
  private map = new Map<string, Template>();
  private second = 0;

  get(key: string, nowSec: number, build: (slot: string) => { events: string[]; firstDelta?: number }): Template {
    if (nowSec !== this.second || this.map.size > 4096) {
      this.map.clear();
      this.second = nowSec;
    }
    let t = this.map.get(key);
    if (!t) {
      const built = build(ID_SLOT);
      t = { parts: built.events.map((s) => s.split(ID_SLOT)), firstDelta: built.firstDelta ?? 0 };
      this.map.set(key, t);
    }
    return t;
  }
}

function render(parts: string[], id: string): string {
  return parts.length === 1 ? parts[0]! : parts.join(id);
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } as const;
const MODELS_BODY = JSON.stringify(modelsList());

/** One request/response pair; `closed` flips when the response ends or the socket dies. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Run fn after ms unless the exchange closes first (the timer is then cleared, so nothing leaks). */
function later(ex: Exchange, ms: number, fn: () => void): void {
  ex.timer = setTimeout(() => {
    ex.timer = undefined;
    if (!ex.closed) fn();
  }, ms);
}

function sendJson(ex: Exchange, status: number, body: string, extra: Record<string, string> | undefined): void {
  const headers: Record<string, string | number> = extra ? { ...JSON_HEADERS, ...extra } : { ...JSON_HEADERS };
  headers['content-length'] = Buffer.byteLength(body);
  ex.res.writeHead(status, headers);
  ex.res.end(body);
}

/**
 * Write the stream one event per write, as soon as it is due: deltas are spaced by paceMs, the
 * preamble and tail go out immediately. With dropAfterDeltas the socket is destroyed once the
 * last allowed event has been flushed, leaving the chunked body incomplete for the client.
 */
function sendStream(ex: Exchange, status: number, t: Template, deltas: number, id: string, b: MockBehavior): void {
  ex.res.writeHead(status, b.headers ? { ...SSE_HEADERS, ...b.headers } : SSE_HEADERS);
  const { parts, firstDelta } = t;
  const drop = b.dropAfterDeltas === undefined ? -1 : Math.min(Math.max(0, b.dropAfterDeltas), deltas);
  const stopAt = drop >= 0 ? firstDelta + drop : parts.length;
  const pace = b.paceMs ?? 0;
  let i = 0;
  const step = (): void => {
    while (i < stopAt && !ex.closed) {
      const event = render(parts[i++]!, id);
      if (i === stopAt && drop >= 0) {
        ex.res.write(event, () => ex.req.socket.destroy());
        return;
      }
      ex.res.write(event);
      // Pause only between two deltas: event i - 1 was a delta and event i is another one.
      if (pace > 0 && i > firstDelta && i < firstDelta + deltas) return later(ex, pace, step);
    }
    if (i >= parts.length && !ex.closed) ex.res.end();
  };
  step();
}

/** Writes already-serialized SSE events, one write each, then ends the response. */
function sendEvents(ex: Exchange, status: number, events: string[], extra: Record<string, string> | undefined): void {
  ex.res.writeHead(status, extra ? { ...SSE_HEADERS, ...extra } : SSE_HEADERS);
  for (const e of events) ex.res.write(e);
  ex.res.end();
}

const SCRIPTED_API: Partial<Record<Route['kind'], ScriptedApi>> = { chat: 'chat', messages: 'anthropic', responses: 'responses' };
/** Each API's id prefix; a Responses id is prefixed per object (resp_, msg_, fc_) by the builders. */
const ID_PREFIX: Record<ScriptedApi, string> = { anthropic: 'msg_', chat: 'chatcmpl-', responses: '' };

/**
 * Replays a recorded stream: piece by piece when chunkBytes is set (each write waits for the
 * previous one to flush, so pieces leave as separate segments), cut after dropAfterBytes.
 */
function sendReplay(ex: Exchange, status: number, sse: string | Buffer, b: MockBehavior): void {
  ex.res.writeHead(status, b.headers ? { ...SSE_HEADERS, ...b.headers } : SSE_HEADERS);
  const bytes = typeof sse === 'string' ? Buffer.from(sse) : sse;
  const cut = b.dropAfterBytes !== undefined;
  const stopAt = cut ? Math.min(Math.max(0, b.dropAfterBytes!), bytes.length) : bytes.length;
  const size = b.chunkBytes !== undefined && b.chunkBytes > 0 ? b.chunkBytes : bytes.length || 1;
  const pace = b.paceMs ?? 0;
  let pos = 0;
  const step = (): void => {
    if (ex.closed) return;
    if (pos >= stopAt) {
      if (!cut) return void ex.res.end();
      ex.res.flushHeaders();
      return void setImmediate(() => ex.req.socket.destroy());
    }
    const end = Math.min(pos + size, stopAt);
    const piece = bytes.subarray(pos, end);
    pos = end;
    ex.res.write(piece, () => {
      if (pos >= stopAt && !cut) return step();
      if (pace > 0) later(ex, pace, step);
      else setImmediate(step);
    });
  };
  step();
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface MockOptions {
  port?: number;
  host?: string;
  /** Keep every request in `requests` (default true). */
  record?: boolean;
  /** The hex prefix of every id the mock makes (default random): fixed, a recording is reproducible. */
  idBase?: string;
  /** Read request bodies a chunk per event-loop turn, so a large body's write stays in flight in the sender. */
  slowRead?: boolean;
}

export async function startMockUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const record = opts.record ?? true;
  const slowRead = opts.slowRead ?? false;
  const host = opts.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const cache = new TemplateCache();
  // Random per-instance prefix keeps ids unique across mock processes; a counter keeps them cheap.
  const idBase = opts.idBase ?? randomBytes(4).toString('hex');
  let seq = 0;
  let queue: MockBehavior[] = [];
  let defaults: MockBehavior = {};
  let active = 0;

  /** body field > queue > default, merged field by field; every routed request consumes one queue entry. */
  function resolveBehavior(json: unknown): MockBehavior {
    const queued = queue.shift();
    const fromBody = isObject(json) && isObject(json.mock_behavior) ? (json.mock_behavior as MockBehavior) : undefined;
    if (!queued && !fromBody) return defaults;
    return { ...defaults, ...queued, ...fromBody };
  }

  function respond(ex: Exchange, route: Route, body: Buffer, json: any, b: MockBehavior): void {
    if (b.reset) {
      // RST rather than FIN: the client sees ECONNRESET, like a crashed or firewalled upstream.
      const s = ex.req.socket;
      if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
      else s.destroy();
      return;
    }
    if (b.hang) return;
    // Replays answer whatever the route; checked before anything else is built.
    if (b.sse !== undefined) return sendReplay(ex, b.status ?? 200, b.sse, b);
    if (b.json !== undefined) return sendJson(ex, b.status ?? 200, JSON.stringify(b.json), b.headers);
    const nowSec = Math.floor(Date.now() / 1000);
    if (b.status !== undefined && b.status >= 400) {
      const status = b.status;
      const msg = b.errorMessage ?? `mock error ${status}`;
      const t = cache.get(`e\0${route.dialect}\0${status}\0${msg}`, nowSec, () => ({
        events: [JSON.stringify(errorBody(route.dialect, status, msg))],
      }));
      return sendJson(ex, status, t.parts[0]![0]!, b.headers);
    }
    const status = b.status ?? 200;
    const tokens = estimateTokens(body.length);
    const api = SCRIPTED_API[route.kind];
    if (b.reply !== undefined && api !== undefined) {
      const stream = json.stream === true;
      let answer: ReturnType<typeof scriptedAnswer>;
      try {
        const reply = typeof b.reply === 'function' ? b.reply({ api, json }) : b.reply;
        answer = scriptedAnswer(api, reply, {
          id: `${ID_PREFIX[api]}${idBase}${(++seq).toString(36)}`,
          model: typeof json.model === 'string' ? json.model : MOCK_MODEL,
          created: nowSec,
          inputTokens: tokens,
          stream,
          includeUsage: isObject(json.stream_options) && json.stream_options.include_usage === true,
        });
      } catch (e) {
        // A test's script that throws (a reply it cannot make for this dialect, a JSON.parse of a
        // replayed call) answers 500 with the reason: the test fails on it, the process lives on.
        return sendJson(ex, 500, JSON.stringify(errorBody(route.dialect, 500, `mock reply script failed: ${(e as Error).message}`)), b.headers);
      }
      if ('json' in answer) return sendJson(ex, status, answer.json, b.headers);
      return sendEvents(ex, status, answer.events, b.headers);
    }
    switch (route.kind) {
      case 'models':
        return sendJson(ex, status, MODELS_BODY, b.headers);
      case 'responses':
        // No generated Responses answers: a test replays a recorded one or scripts one.
        return sendJson(ex, 404, JSON.stringify(errorBody('openai', 404, 'the mock answers /v1/responses only with a replay or a script (enqueue { sse }, { json } or { reply })')), b.headers);
      case 'count_tokens':
        return sendJson(ex, status, JSON.stringify(countTokensBody(tokens)), b.headers);
      case 'embeddings':
        return sendJson(ex, status, JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model: json.model ?? MOCK_MODEL, usage: { prompt_tokens: tokens, total_tokens: tokens } }), b.headers);
      case 'chat': {
        const model: string = typeof json.model === 'string' ? json.model : (route.deployment ?? MOCK_MODEL);
        const id = `chatcmpl-${idBase}${(++seq).toString(36)}`;
        if (json.stream === true) {
          const deltas = b.deltas ?? DEFAULT_DELTAS;
          const includeUsage = isObject(json.stream_options) && json.stream_options.include_usage === true;
          const t = cache.get(`os\0${model}\0${tokens}\0${deltas}\0${includeUsage}`, nowSec, (slot) =>
            openaiStream({ id: slot, model, created: nowSec, promptTokens: tokens, deltas, includeUsage }));
          return sendStream(ex, status, t, deltas, id, b);
        }
        const text = b.text ?? DEFAULT_TEXT;
        const t = cache.get(`o\0${model}\0${tokens}\0${text}`, nowSec, (slot) => ({
          events: [JSON.stringify(openaiCompletion({ id: slot, model, created: nowSec, promptTokens: tokens, text }))],
        }));
        return sendJson(ex, status, render(t.parts[0]!, id), b.headers);
      }
      case 'messages': {
        const model: string = typeof json.model === 'string' ? json.model : MOCK_MODEL;
        const id = `msg_${idBase}${(++seq).toString(36)}`;
        if (json.stream === true) {
          const deltas = b.deltas ?? DEFAULT_DELTAS;
          const t = cache.get(`as\0${model}\0${tokens}\0${deltas}`, nowSec, (slot) =>
            anthropicStream({ id: slot, model, inputTokens: tokens, deltas }));
          return sendStream(ex, status, t, deltas, id, b);
        }
        const text = b.text ?? DEFAULT_TEXT;
        const t = cache.get(`a\0${model}\0${tokens}\0${text}`, nowSec, (slot) => ({
          events: [JSON.stringify(anthropicMessage({ id: slot, model, inputTokens: tokens, text }))],
        }));
        return sendJson(ex, status, render(t.parts[0]!, id), b.headers);
      }
    }
  }

  function handle(ex: Exchange, path: string, query: string, receivedAt: number, body: Buffer): void {
    const { req } = ex;
    const route = matchRoute(req.method, path);
    let json: any;
    let bad = false;
    if (route && route.kind !== 'models') {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        bad = true;
      }
      if (!isObject(json)) bad = true;
    } else if (body.length > 0) {
      try { json = JSON.parse(body.toString('utf8')); } catch { /* recorded raw only */ }
    }
    if (record) {
      requests.push({ method: req.method ?? '', path, query, headers: req.headers, body, json, receivedAt });
    }
    if (!route) {
      return sendJson(ex, 404, JSON.stringify(errorBody('openai', 404, `no mock route for ${req.method} ${path}`)), undefined);
    }
    if (bad) {
      return sendJson(ex, 400, JSON.stringify(errorBody(route.dialect, 400, 'request body is not a valid JSON object')), undefined);
    }
    const b = resolveBehavior(json);
    if (b.delayMs && b.delayMs > 0) later(ex, b.delayMs, () => respond(ex, route, body, json, b));
    else respond(ex, route, body, json, b);
  }

  const server = http.createServer((req, res) => {
    const receivedAt = Date.now();
    const ex: Exchange = { req, res, closed: false, timer: undefined };
    active++;
    // 'close' fires once: after the response finished, or when the socket died first.
    res.once('close', () => {
      active--;
      ex.closed = true;
      if (ex.timer) clearTimeout(ex.timer);
    });
    // Aborted clients surface as stream errors; they are expected here, not crashes.
    req.on('error', () => {});
    res.on('error', () => {});
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      if (slowRead) {
        // One chunk per turn of the loop: the sender's write stays in flight meanwhile.
        req.pause();
        setImmediate(() => req.resume());
      }
    });
    req.on('end', () => {
      if (ex.closed) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      handle(ex, path, query, receivedAt, body);
    });
  });
  // Generous keep-alive so benchmark clients never pay for reconnects; no request timeout so
  // `hang` really hangs until the client gives up.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.requestTimeout = 0;
  server.on('connection', (s: Socket) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    setDefault(b) { defaults = { ...b }; },
    enqueue(...b) { queue.push(...b); },
    reset() {
      queue = [];
      defaults = {};
      requests.length = 0; // in place: callers may hold a reference to `requests`
    },
    openConnections: () => sockets.size,
    activeRequests: () => active,
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
