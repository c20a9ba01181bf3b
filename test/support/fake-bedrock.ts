// A fake Bedrock runtime (and a fake STS for assume-role) over real HTTP on loopback, written from
// AWS's public API references. It checks what Bedrock checks: the SigV4 signature, recomputed with
// the AWS SDK's signer from the credentials it knows (an unknown key → 403
// UnrecognizedClientException, a wrong secret → 403 InvalidSignatureException, in Bedrock's JSON
// error shape with x-amzn-errortype); the model in the path; the body each API takes (InvokeModel
// refuses `model`, `stream`, unknown top-level keys and betas it does not know; Converse its own
// shape). It answers InvokeModel, InvokeModelWithResponseStream, Converse, ConverseStream and
// CountTokens in Bedrock's framing: streams as AWS event-stream messages (prelude, headers, CRCs),
// each response written `split` bytes at a time (1 writes byte by byte, cutting every frame header).
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { estimateTokens } from './mock-responses';
import { scriptedAnswer, type ScriptedReply } from './mock-scripted';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface BedrockRequest {
  method: string;
  path: string;
  /** The API the path names: invoke, invoke-with-response-stream, converse, converse-stream, count-tokens. */
  api: string;
  modelId: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
  /** The access key id the request was signed with. */
  accessKeyId: string;
}

/** An answer the fake gives instead of the scripted reply. */
export interface BedrockFailure {
  status: number;
  /** Bedrock's error type: ThrottlingException, AccessDeniedException, ValidationException… */
  type: string;
  message: string;
}

export interface FakeBedrockOptions {
  region?: string;
  /** Credentials it accepts (more can be added, e.g. by the fake STS). */
  keys: AwsKeys[];
  /** Model ids it serves. */
  models: string[];
  /** Bytes per write of every answer (default 7). */
  split?: number;
  /** Keep every request in `requests` (default true; the bench turns it off). */
  record?: boolean;
  host?: string;
  port?: number;
}

export interface FakeBedrock {
  url: string;
  region: string;
  requests: BedrockRequest[];
  keys: Map<string, AwsKeys>;
  /** The scripted reply for a request (default: a short text). */
  reply: (r: BedrockRequest) => ScriptedReply;
  /** Answers the next requests with these failures, one each, before replying again. */
  failures: BedrockFailure[];
  /** Streams: after this many events, an exception frame of this type ends the stream. */
  streamException: { afterEvents: number; type: string; message: string } | null;
  split: number;
  close(): Promise<void>;
}

const SHA256 = Hash.bind(null, 'sha256');

// ---------------------------------------------------------------- event-stream encoding

/** One event-stream message: string headers only, as Bedrock sends them. */
export function encodeFrame(headers: Record<string, string>, payload: Buffer): Buffer {
  const hs: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    h[0] = n.length;
    n.copy(h, 1);
    h[1 + n.length] = 7;
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    hs.push(h);
  }
  const headerBytes = Buffer.concat(hs);
  const total = 12 + headerBytes.length + payload.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headerBytes.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headerBytes.copy(out, 12);
  payload.copy(out, 12 + headerBytes.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

const eventFrame = (type: string, payload: object) => encodeFrame({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));
const exceptionFrame = (type: string, message: string) => encodeFrame({ ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' }, Buffer.from(JSON.stringify({ message })));

/** InvokeModelWithResponseStream's chunk: the Anthropic event as base64 JSON, with padding. */
const chunkFrame = (event: object) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abcdefghijklmnopqrstu'.slice(0, 1 + Math.floor(Math.random() * 20)) });

// ---------------------------------------------------------------- SigV4 check

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

type Verdict = { ok: true; keys: AwsKeys } | { ok: false; failure: BedrockFailure };

function amzDate(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : new Date(NaN);
}

/** Recomputes the request's signature with the SDK's signer and the secret the fake knows. */
export async function verifySigV4(req: http.IncomingMessage, body: Buffer, keys: Map<string, AwsKeys>, region: string, service: string): Promise<Verdict> {
  const deny = (status: number, type: string, message: string): Verdict => ({ ok: false, failure: { status, type, message } });
  const m = AUTH_RE.exec(String(req.headers.authorization ?? ''));
  if (!m) return deny(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const [, akid, , credRegion, credService, signedHeaders] = m;
  const k = keys.get(akid!);
  if (!k) return deny(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (k.sessionToken && req.headers['x-amz-security-token'] !== k.sessionToken) return deny(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (credRegion !== region || credService !== service) return deny(403, 'InvalidSignatureException', `Credential should be scoped to a valid region and service (${region}/${service}).`);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(';')) headers[name] = String(req.headers[name] ?? '');
  const url = new URL(req.url!, 'http://x');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, key) => (query[key] = v));
  const host = String(req.headers.host);
  const [hostname, port] = host.split(':');
  const signer = new SignatureV4({ service, region, sha256: SHA256, credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, ...(k.sessionToken ? { sessionToken: k.sessionToken } : {}) } });
  const rawPath = req.url!.split('?')[0]!;
  const signed = await signer.sign(new HttpRequest({ method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined, path: rawPath, query, headers, body }), { signingDate: amzDate(String(req.headers['x-amz-date'])) });
  if (signed.headers.authorization !== req.headers.authorization) {
    return deny(403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return { ok: true, keys: k };
}

// ---------------------------------------------------------------- request checks

const INVOKE_KEYS = new Set(['anthropic_version', 'anthropic_beta', 'max_tokens', 'messages', 'system', 'stop_sequences', 'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'thinking', 'metadata', 'output_config', 'context_management']);
/** Betas Bedrock's Claude documentation lists. */
const KNOWN_BETAS = new Set([
  'computer-use-2024-10-22', 'computer-use-2025-01-24', 'token-efficient-tools-2025-02-19', 'interleaved-thinking-2025-05-14', 'output-128k-2025-02-19',
  'context-1m-2025-08-07', 'context-management-2025-06-27', 'effort-2025-11-24', 'tool-search-tool-2025-10-19', 'tool-examples-2025-10-29', 'fine-grained-tool-streaming-2025-05-14',
]);

function invokeBodyError(json: any): string | null {
  if (!json || typeof json !== 'object') return 'Malformed input request: expected a JSON object';
  for (const k of Object.keys(json)) if (!INVOKE_KEYS.has(k)) return `Malformed input request: #: extraneous key [${k}] is not permitted, please reformat your input and try again.`;
  if (json.anthropic_version !== 'bedrock-2023-05-31') return 'Malformed input request: #: required key [anthropic_version] not found or invalid';
  if (typeof json.max_tokens !== 'number') return 'Malformed input request: #: required key [max_tokens] not found';
  if (!Array.isArray(json.messages)) return 'Malformed input request: #: required key [messages] not found';
  if (json.anthropic_beta !== undefined) {
    if (!Array.isArray(json.anthropic_beta)) return 'Malformed input request: anthropic_beta: expected type: JSONArray';
    for (const b of json.anthropic_beta) if (!KNOWN_BETAS.has(b)) return `invalid beta flag: ${b}`;
  }
  return null;
}

function converseBodyError(json: any): string | null {
  if (!json || typeof json !== 'object' || !Array.isArray(json.messages)) return 'messages: required';
  if ('model' in json || 'max_tokens' in json) return 'The request body has unknown fields';
  for (const m of json.messages) {
    if (m.role !== 'user' && m.role !== 'assistant') return 'messages.role: must be user or assistant';
    if (!Array.isArray(m.content)) return 'messages.content: must be a list';
    for (const b of m.content) if ('type' in b) return 'messages.content: unknown field type';
  }
  return null;
}

// ---------------------------------------------------------------- answers

/** Converse's shape of a scripted reply. */
function converseAnswer(reply: ScriptedReply, inputTokens: number): object {
  const out = estimateTokens(Buffer.byteLength('text' in reply ? reply.text : reply.toolCall.arguments));
  const block = 'text' in reply ? { text: reply.text } : { toolUse: { toolUseId: reply.toolCall.id, name: reply.toolCall.name, input: JSON.parse(reply.toolCall.arguments) } };
  return {
    output: { message: { role: 'assistant', content: [block] } },
    stopReason: 'text' in reply ? 'end_turn' : 'tool_use',
    usage: { inputTokens, outputTokens: out, totalTokens: inputTokens + out },
    metrics: { latencyMs: 12 },
  };
}

function converseEvents(reply: ScriptedReply, inputTokens: number): Buffer[] {
  const out = estimateTokens(Buffer.byteLength('text' in reply ? reply.text : reply.toolCall.arguments));
  const frames = [eventFrame('messageStart', { role: 'assistant' })];
  if ('text' in reply) {
    const t = reply.text;
    for (const piece of [t.slice(0, Math.ceil(t.length / 2)), t.slice(Math.ceil(t.length / 2))]) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }));
  } else {
    const c = reply.toolCall;
    frames.push(eventFrame('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: c.id, name: c.name } } }));
    const a = c.arguments;
    for (const piece of [a.slice(0, 5), a.slice(5)]) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: piece } } }));
  }
  frames.push(
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: 'text' in reply ? 'end_turn' : 'tool_use' }),
    eventFrame('metadata', { usage: { inputTokens, outputTokens: out, totalTokens: inputTokens + out }, metrics: { latencyMs: 12 } }),
  );
  return frames;
}

/** The Anthropic events of a scripted reply as InvokeModelWithResponseStream chunks (no pings, as Bedrock). */
function invokeEvents(reply: ScriptedReply, model: string, inputTokens: number): Buffer[] {
  const a = scriptedAnswer('anthropic', reply, { id: `msg_bdrk_${randomBytes(8).toString('hex')}`, model, created: 0, inputTokens, stream: true, includeUsage: false });
  const events = 'events' in a ? a.events : [];
  const out: Buffer[] = [];
  for (const e of events) {
    const data = JSON.parse(e.slice(e.indexOf('data: ') + 6));
    if (data.type === 'ping') continue;
    if (data.type === 'message_stop') data['amazon-bedrock-invocationMetrics'] = { inputTokenCount: inputTokens, outputTokenCount: 0, invocationLatency: 20, firstByteLatency: 10 };
    out.push(chunkFrame(data));
  }
  return out;
}

/** Writes `body` `split` bytes at a time, each write after the last one drained. */
function writeSplit(res: http.ServerResponse, body: Buffer, split: number): void {
  let i = 0;
  const next = (): void => {
    if (i >= body.length) return void res.end();
    const piece = body.subarray(i, (i += split));
    if (res.write(piece)) setImmediate(next);
    else res.once('drain', next);
  };
  next();
}

function sendError(res: http.ServerResponse, f: BedrockFailure): void {
  res.writeHead(f.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${f.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': randomBytes(8).toString('hex') });
  res.end(JSON.stringify({ message: f.message }));
}

const PATH_RE = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream|count-tokens)$/;

export async function startFakeBedrock(o: FakeBedrockOptions): Promise<FakeBedrock> {
  const region = o.region ?? 'us-east-1';
  const fake: FakeBedrock = {
    url: '',
    region,
    requests: [],
    keys: new Map(o.keys.map((k) => [k.accessKeyId, k])),
    reply: () => ({ text: 'Hello from Bedrock' }),
    failures: [],
    streamException: null,
    split: o.split ?? 7,
    close: async () => {},
  };
  const models = new Set(o.models);
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(parts)).catch((e: Error) => sendError(res, { status: 500, type: 'InternalServerException', message: e.message })));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const verdict = await verifySigV4(req, body, fake.keys, region, 'bedrock');
    if (!verdict.ok) return sendError(res, verdict.failure);
    const m = PATH_RE.exec(req.url!.split('?')[0]!);
    if (req.method !== 'POST' || !m) return sendError(res, { status: 404, type: 'UnknownOperationException', message: `Unknown operation ${req.method} ${req.url}` });
    const modelId = decodeURIComponent(m[1]!);
    const api = m[2]!;
    let json: any;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(res, { status: 400, type: 'ValidationException', message: 'Malformed input request, please reformat your input and try again.' });
    }
    const r: BedrockRequest = { method: req.method, path: req.url!, api, modelId, headers: req.headers, body, json, accessKeyId: verdict.keys.accessKeyId };
    if (o.record !== false) fake.requests.push(r);
    if (!models.has(modelId)) return sendError(res, { status: 400, type: 'ValidationException', message: 'The provided model identifier is invalid.' });
    const failure = fake.failures.shift();
    if (failure) return sendError(res, failure);
    const inputTokens = estimateTokens(body.length);
    if (api === 'count-tokens') {
      const inner = json?.input?.invokeModel?.body;
      if (typeof inner !== 'string') return sendError(res, { status: 400, type: 'ValidationException', message: 'input.invokeModel.body: required' });
      const decoded = Buffer.from(inner, 'base64');
      const err = invokeBodyError(JSON.parse(decoded.toString('utf8')));
      if (err) return sendError(res, { status: 400, type: 'ValidationException', message: err });
      res.writeHead(200, { 'content-type': 'application/json' });
      return writeSplit(res, Buffer.from(JSON.stringify({ inputTokens: estimateTokens(decoded.length) })), fake.split);
    }
    const invoke = api.startsWith('invoke');
    const err = invoke ? invokeBodyError(json) : converseBodyError(json);
    if (err) return sendError(res, { status: 400, type: 'ValidationException', message: err });
    const reply = fake.reply(r);
    if (api === 'invoke' || api === 'converse') {
      const answer = invoke ? JSON.parse((scriptedAnswer('anthropic', reply, { id: `msg_bdrk_${randomBytes(8).toString('hex')}`, model: modelId, created: 0, inputTokens, stream: false, includeUsage: false }) as { json: string }).json) : converseAnswer(reply, inputTokens);
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomBytes(8).toString('hex'), 'x-amzn-bedrock-input-token-count': String(inputTokens) });
      return writeSplit(res, Buffer.from(JSON.stringify(answer)), fake.split);
    }
    let frames = invoke ? invokeEvents(reply, modelId, inputTokens) : converseEvents(reply, inputTokens);
    if (fake.streamException) {
      frames = frames.slice(0, fake.streamException.afterEvents);
      frames.push(exceptionFrame(fake.streamException.type, fake.streamException.message));
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomBytes(8).toString('hex') });
    writeSplit(res, Buffer.concat(frames), fake.split);
  }

  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  fake.url = `http://${o.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

// ---------------------------------------------------------------- STS

export interface FakeSts {
  url: string;
  /** AssumeRole calls: the role and session asked for, and the key that signed. */
  calls: { roleArn: string; sessionName: string; accessKeyId: string }[];
  close(): Promise<void>;
}

/**
 * A fake STS answering AssumeRole (the query protocol: a form body, an XML answer): the caller's
 * signature is checked against `keys`, and the temporary credentials it issues are added to
 * `issueTo` (the fake Bedrock's keys), valid for `durationS`.
 */
export async function startFakeSts(o: { keys: AwsKeys[]; issueTo: Map<string, AwsKeys>; region?: string; durationS?: number }): Promise<FakeSts> {
  const region = o.region ?? 'us-east-1';
  const keys = new Map(o.keys.map((k) => [k.accessKeyId, k]));
  const sts: FakeSts = { url: '', calls: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      void verifySigV4(req, body, keys, region, 'sts').then((v) => {
        if (!v.ok) {
          res.writeHead(v.failure.status, { 'content-type': 'text/xml' });
          return res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${v.failure.type}</Code><Message>${v.failure.message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        }
        const form = new URLSearchParams(body.toString('utf8'));
        if (form.get('Action') !== 'AssumeRole') {
          res.writeHead(400, { 'content-type': 'text/xml' });
          return res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        }
        const roleArn = form.get('RoleArn') ?? '';
        const sessionName = form.get('RoleSessionName') ?? '';
        sts.calls.push({ roleArn, sessionName, accessKeyId: v.keys.accessKeyId });
        const issued: AwsKeys = { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64'), sessionToken: randomBytes(48).toString('base64') };
        o.issueTo.set(issued.accessKeyId, issued);
        const expiration = new Date(Date.now() + (o.durationS ?? 3600) * 1000).toISOString();
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
            `<AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>` +
            `<SessionToken>${issued.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
            `<AssumedRoleUser><Arn>${roleArn}/${sessionName}</Arn><AssumedRoleId>AROAFAKE:${sessionName}</AssumedRoleId></AssumedRoleUser>` +
            `</AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sts.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sts.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sts;
}
