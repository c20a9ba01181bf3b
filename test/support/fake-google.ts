// A fake of the Google endpoints Weir calls, over real HTTP on loopback, written from the public
// API references:
//  - the OAuth token endpoint a service account's `token_uri` names: it checks the JWT assertion
//    (RS256 signature against the key pair it generated, issuer, scope, expiry) and issues bearer
//    tokens with an expiry it is told, counting them;
//  - Vertex AI: POST /v1/projects/{p}/locations/{l}/publishers/{anthropic|google}/models/{m}:{method}
//    with rawPredict / streamRawPredict (Anthropic Messages body with anthropic_version
//    vertex-2023-10-16 and no model; Anthropic SSE), count-tokens:rawPredict, and generateContent /
//    streamGenerateContent?alt=sse (Gemini JSON / SSE). It checks the bearer token it issued (and
//    that it has not expired) and the project, location and model in the path;
//  - Google AI Studio: POST /v1beta/models/{m}:generateContent | :streamGenerateContent?alt=sse,
//    checking x-goog-api-key.
// Answers are scripted per request (text or a tool call, optionally thinking), and written in
// pieces of `chunkBytes` (1: one byte per write), each after the previous one was flushed, so
// frames, lines and UTF-8 characters are split wherever the count falls.
import * as http from 'node:http';
import { generateKeyPairSync, verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { scriptedAnswer, type ScriptedReply } from './mock-scripted';

export type FakeApi = 'anthropic' | 'gemini';

export interface FakeRequest {
  method: string;
  path: string;
  query: string;
  headers: http.IncomingHttpHeaders;
  json: any;
  /** What the path named: vertex (project, location, publisher) or studio. */
  surface: 'vertex' | 'studio' | 'token';
  project?: string;
  location?: string;
  model?: string;
  method_?: string;
}

export interface FakeReply {
  reply: ScriptedReply;
  /** Gemini: a thought part before the answer. */
  thinking?: string;
  /** Streams: these text deltas, one event each (the bench's `tok0 `, `tok1 `…), instead of the reply's three pieces. */
  deltas?: string[];
  /** Gemini usage extras. */
  cachedTokens?: number;
  thoughtsTokens?: number;
}

export interface FakeGoogle {
  url: string;
  /** A service account JSON whose token_uri is this fake's /token. */
  serviceAccount: Record<string, string>;
  apiKey: string;
  project: string;
  /** Tokens issued so far. */
  tokensIssued: number;
  /** Seconds of life of the tokens issued from now on. */
  expiresIn: number;
  /** Bytes per write of every answer (0: whole). */
  chunkBytes: number;
  requests: FakeRequest[];
  /** The answer to a turn, from the request. */
  script: (api: FakeApi, json: any, req: FakeRequest) => FakeReply;
  /** The next model call gets this status and Google error body instead. */
  failNext(status: number, message: string, googleStatus?: string): void;
  reset(): void;
  close(): Promise<void>;
}

const VERTEX = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(anthropic|google)\/models\/([^/:]+):([A-Za-z]+)$/;
const STUDIO = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/;
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

function googleError(status: number, message: string, googleStatus: string): string {
  return JSON.stringify({ error: { code: status, message, status: googleStatus } });
}

function geminiParts(r: FakeReply): any[] {
  const parts: any[] = [];
  if (r.thinking) parts.push({ text: r.thinking, thought: true });
  if ('text' in r.reply) parts.push({ text: r.reply.text });
  else parts.push({ functionCall: { name: r.reply.toolCall.name, args: JSON.parse(r.reply.toolCall.arguments) }, thoughtSignature: 'c2lnbmF0dXJl+/8=' });
  return parts;
}

function usageMetadata(r: FakeReply, inputTokens: number): any {
  const out = Math.ceil(Buffer.byteLength('text' in r.reply ? r.reply.text : r.reply.toolCall.arguments) / 4);
  const u: any = { promptTokenCount: inputTokens, candidatesTokenCount: out, totalTokenCount: inputTokens + out + (r.thoughtsTokens ?? 0) };
  if (r.cachedTokens) u.cachedContentTokenCount = r.cachedTokens;
  if (r.thoughtsTokens) u.thoughtsTokenCount = r.thoughtsTokens;
  return u;
}

/** A whole generateContent answer. */
export function geminiAnswer(r: FakeReply, inputTokens: number, model: string): string {
  return JSON.stringify({ candidates: [{ content: { role: 'model', parts: geminiParts(r) }, finishReason: 'STOP', index: 0 }], usageMetadata: usageMetadata(r, inputTokens), modelVersion: model, responseId: 'gresp-1' });
}

/** streamGenerateContent?alt=sse: the thought, the text in three events, a call whole, then finishReason with usage. */
export function geminiEvents(r: FakeReply, inputTokens: number, model: string): string[] {
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\r\n\r\n`;
  const out: string[] = [];
  const base = { modelVersion: model, responseId: 'gresp-1' };
  if (r.thinking) out.push(ev({ candidates: [{ content: { role: 'model', parts: [{ text: r.thinking, thought: true }] }, index: 0 }], usageMetadata: { promptTokenCount: inputTokens }, ...base }));
  if (r.deltas) {
    r.deltas.forEach((d, i) => out.push(ev({ candidates: [{ content: { role: 'model', parts: [{ text: d }] }, ...(i === r.deltas!.length - 1 ? { finishReason: 'STOP' } : {}), index: 0 }], ...(i === r.deltas!.length - 1 ? { usageMetadata: usageMetadata(r, inputTokens) } : {}), ...base })));
  } else if ('text' in r.reply) {
    const t = r.reply.text;
    const a = Math.floor(t.length / 3);
    const b = Math.floor((2 * t.length) / 3);
    for (const piece of [t.slice(0, a), t.slice(a, b)]) if (piece) out.push(ev({ candidates: [{ content: { role: 'model', parts: [{ text: piece }] }, index: 0 }], ...base }));
    out.push(ev({ candidates: [{ content: { role: 'model', parts: [{ text: t.slice(b) }] }, finishReason: 'STOP', index: 0 }], usageMetadata: usageMetadata(r, inputTokens), ...base }));
  } else {
    out.push(ev({ candidates: [{ content: { role: 'model', parts: geminiParts({ reply: r.reply }) }, finishReason: 'STOP', index: 0 }], usageMetadata: usageMetadata(r, inputTokens), ...base }));
  }
  return out;
}

/** An Anthropic stream of the given text deltas, one content_block_delta each. */
function anthropicDeltaEvents(deltas: string[], model: string, inputTokens: number): string {
  const ev = (type: string, o: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`;
  let s = ev('message_start', { message: { id: 'msg_vrtx_bench', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } });
  s += ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  for (const d of deltas) s += ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: d } });
  s += ev('content_block_stop', { index: 0 });
  s += ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: deltas.length } });
  return s + ev('message_stop', {});
}

function verifyAssertion(assertion: string, publicKey: string, email: string): string | null {
  const parts = assertion.split('.');
  if (parts.length !== 3) return 'malformed assertion';
  const ok = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) return 'invalid signature';
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  if (claims.iss !== email) return `unknown issuer ${claims.iss}`;
  if (!String(claims.scope ?? '').split(' ').includes(SCOPE)) return `scope ${claims.scope} lacks cloud-platform`;
  if (!(claims.exp * 1000 > Date.now())) return 'assertion expired';
  return null;
}

async function writePieces(res: http.ServerResponse, text: string, chunkBytes: number): Promise<void> {
  const buf = Buffer.from(text);
  if (chunkBytes <= 0) {
    res.write(buf);
    return;
  }
  for (let i = 0; i < buf.length; i += chunkBytes) {
    await new Promise<void>((resolve) => res.write(buf.subarray(i, i + chunkBytes), () => resolve()));
  }
}

export interface FakeGoogleOptions {
  project?: string;
  apiKey?: string;
  /** A bearer token accepted without expiry besides those issued (the bench's direct calls). */
  staticToken?: string;
  /** Keep no request records (a bench sends many). */
  record?: boolean;
  port?: number;
}

export async function startFakeGoogle(opts: FakeGoogleOptions = {}): Promise<FakeGoogle> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const email = 'weir-test@weir-test-project.iam.gserviceaccount.com';
  /** token → expiry (epoch ms). */
  const issued = new Map<string, number>();
  if (opts.staticToken) issued.set(opts.staticToken, Infinity);
  const record = opts.record !== false;
  let failure: { status: number; body: string } | null = null;
  const defaultScript = (): FakeReply => ({ reply: { text: 'Hello from Google' } });
  const fake: FakeGoogle = {
    url: '',
    serviceAccount: {},
    apiKey: opts.apiKey ?? 'AIza-test-studio-key-123456',
    project: opts.project ?? 'weir-test-project',
    tokensIssued: 0,
    expiresIn: 3600,
    chunkBytes: 7,
    requests: [],
    script: defaultScript,
    failNext(status, message, googleStatus = 'INVALID_ARGUMENT') {
      failure = { status, body: googleError(status, message, googleStatus) };
    },
    reset() {
      fake.requests.length = 0;
      fake.script = defaultScript;
      fake.chunkBytes = 7;
      failure = null;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const answer = async (res: http.ServerResponse, req: FakeRequest, api: FakeApi, stream: boolean) => {
    if (failure) {
      const f = failure;
      failure = null;
      res.writeHead(f.status, { 'content-type': 'application/json' });
      return res.end(f.body);
    }
    const r = fake.script(api, req.json, req);
    const inputTokens = Math.ceil(JSON.stringify(req.json).length / 4);
    if (api === 'anthropic' && stream && r.deltas) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await writePieces(res, anthropicDeltaEvents(r.deltas, req.model!, inputTokens), fake.chunkBytes);
      return res.end();
    }
    if (api === 'anthropic') {
      const a = scriptedAnswer('anthropic', r.reply, { id: 'msg_vrtx_01', model: req.model!, created: Math.floor(Date.now() / 1000), inputTokens, stream, includeUsage: false });
      if ('json' in a) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(a.json);
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await writePieces(res, a.events.join(''), fake.chunkBytes);
      return res.end();
    }
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(geminiAnswer(r, inputTokens, req.model!));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await writePieces(res, geminiEvents(r, inputTokens, req.model!).join(''), fake.chunkBytes);
    res.end();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const [path, query = ''] = (req.url ?? '').split('?', 2) as [string, string?];
      const reject = (status: number, message: string, googleStatus: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(googleError(status, message, googleStatus));
      };
      if (req.method === 'POST' && path === '/token') {
        const form = new URLSearchParams(body);
        const rec: FakeRequest = { method: 'POST', path, query, headers: req.headers, json: Object.fromEntries(form), surface: 'token' };
        if (record) fake.requests.push(rec);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return reject(400, 'unsupported grant_type', 'INVALID_ARGUMENT');
        const why = verifyAssertion(form.get('assertion') ?? '', publicKey, email);
        if (why) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ error: 'invalid_grant', error_description: why }));
        }
        const token = `ya29.fake-${++fake.tokensIssued}`;
        issued.set(token, Date.now() + fake.expiresIn * 1000);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ access_token: token, expires_in: fake.expiresIn, token_type: 'Bearer' }));
      }
      let json: any;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        return reject(400, 'Invalid JSON payload received.', 'INVALID_ARGUMENT');
      }
      const v = VERTEX.exec(path);
      if (req.method === 'POST' && v) {
        const [, project, location, publisher, model, method] = v as unknown as string[];
        const rec: FakeRequest = { method: 'POST', path, query, headers: req.headers, json, surface: 'vertex', project, location, model, method_: method };
        if (record) fake.requests.push(rec);
        const auth = String(req.headers.authorization ?? '');
        const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
        const expiry = issued.get(token);
        if (expiry === undefined || expiry <= Date.now()) return reject(401, 'Request had invalid authentication credentials.', 'UNAUTHENTICATED');
        if (project !== fake.project) return reject(403, `Permission denied on project ${project}`, 'PERMISSION_DENIED');
        if (publisher === 'anthropic') {
          if (model === 'count-tokens' && method === 'rawPredict') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(JSON.stringify({ input_tokens: Math.ceil(body.length / 4) }));
          }
          if (method !== 'rawPredict' && method !== 'streamRawPredict') return reject(404, `method ${method} not found`, 'NOT_FOUND');
          if (json?.anthropic_version !== 'vertex-2023-10-16') return reject(400, 'anthropic_version: vertex-2023-10-16 required', 'INVALID_ARGUMENT');
          if (json && 'model' in json) return reject(400, 'model: Extra inputs are not permitted', 'INVALID_ARGUMENT');
          if ((method === 'streamRawPredict') !== (json?.stream === true)) return reject(400, 'stream must match the method', 'INVALID_ARGUMENT');
          return void answer(res, rec, 'anthropic', method === 'streamRawPredict');
        }
        if (method !== 'generateContent' && method !== 'streamGenerateContent') return reject(404, `method ${method} not found`, 'NOT_FOUND');
        if (method === 'streamGenerateContent' && query !== 'alt=sse') return reject(400, 'this fake streams SSE only (alt=sse)', 'INVALID_ARGUMENT');
        if (!Array.isArray(json?.contents)) return reject(400, 'contents is required', 'INVALID_ARGUMENT');
        return void answer(res, rec, 'gemini', method === 'streamGenerateContent');
      }
      const s = STUDIO.exec(path);
      if (req.method === 'POST' && s) {
        const [, model, method] = s as unknown as string[];
        const rec: FakeRequest = { method: 'POST', path, query, headers: req.headers, json, surface: 'studio', model, method_: method };
        if (record) fake.requests.push(rec);
        if (req.headers['x-goog-api-key'] !== fake.apiKey) return reject(400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT');
        if (method !== 'generateContent' && method !== 'streamGenerateContent') return reject(404, `method ${method} not found`, 'NOT_FOUND');
        if (method === 'streamGenerateContent' && query !== 'alt=sse') return reject(400, 'this fake streams SSE only (alt=sse)', 'INVALID_ARGUMENT');
        if (!Array.isArray(json?.contents)) return reject(400, 'contents is required', 'INVALID_ARGUMENT');
        return void answer(res, rec, 'gemini', method === 'streamGenerateContent');
      }
      if (record) fake.requests.push({ method: req.method ?? '', path, query, headers: req.headers, json, surface: 'vertex' });
      reject(404, `no route ${req.method} ${path}`, 'NOT_FOUND');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${port}`;
  fake.serviceAccount = {
    type: 'service_account',
    project_id: fake.project,
    private_key_id: 'fake-key-1',
    private_key: privateKey,
    client_email: email,
    client_id: '1234567890',
    token_uri: `${fake.url}/token`,
  };
  return fake;
}

/**
 * The environment that keeps google-auth-library on loopback: no metadata server (a dead loopback
 * port), no gcloud well-known file (a home without one).
 */
export function googleTestEnv(deadPort: number, home: string): Record<string, string> {
  return { GCE_METADATA_HOST: `127.0.0.1:${deadPort}`, GCE_METADATA_IP: `127.0.0.1:${deadPort}`, METADATA_SERVER_DETECTION: 'none', CLOUDSDK_CONFIG: home };
}
