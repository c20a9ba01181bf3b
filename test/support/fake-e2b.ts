// A fake E2B, written from the request shapes in the E2B SDK (e2b 2.x): one loopback HTTP server
// that the real SDK uses as both its API (`apiUrl`: sandboxes are created, listed by metadata, given
// a timeout, connected to, killed) and its envd (`sandboxUrl`, shared by every sandbox: requests
// are routed by the E2b-Sandbox-Id header and checked against the sandbox's access token). envd's
// process service speaks Connect over JSON: `Start` streams enveloped frames (start → data → end →
// end of stream), `SendSignal` is unary. A Start with a `pty` field runs its command in a real PTY
// (fake-machines.ts: util-linux `script`), its output as `pty` data events, `SendInput` with
// `pty` bytes types into it, and `Update` with a `pty.size` resizes it (the SDK's `pty.resize`).
// Files go as multipart (write: one file at `path`, or several parts each named by its path) and
// raw bytes (read).
// Processes are real local processes in a folder per sandbox (fake-machines.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeMachines, Faults, epochMs, killGroup, type FakeMachine, type FakePty } from './fake-machines';

export interface FakeE2BOptions {
  apiKey: string;
  templates?: string[];
}

export interface Recorded {
  method: string;
  path: string;
  body: unknown;
}

const ENVD_VERSION = '0.4.1';

export class FakeE2B {
  readonly machines = new FakeMachines('e2b');
  readonly faults = new Faults();
  readonly requests: Recorded[] = [];
  /** Calls to a sandbox's envd (files, processes), by sandbox. */
  readonly envdRequests: Array<{ sandbox: string; method: string; path: string }> = [];
  private readonly tokens = new Map<string, string>();
  private readonly pids = new Map<number, { m: FakeMachine; kill(): void; input?(b: Buffer): void; pty?: FakePty }>();
  private nextPid = 1000;
  private server!: http.Server;
  url = '';

  constructor(private readonly o: FakeE2BOptions) {}

  static async start(o: FakeE2BOptions): Promise<FakeE2B> {
    const f = new FakeE2B(o);
    f.server = http.createServer((req, res) => void f.handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 500, message: String((e as Error).message) }));
    }));
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** The machine dies under its run: processes killed, streams cut, API answers 404. */
  killMachine(id: string): void {
    const m = this.machines.get(id);
    if (m) this.machines.kill(m);
  }

  async close(): Promise<void> {
    this.machines.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = epochMs();
    const url = new URL(req.url ?? '/', 'http://x');
    const sandboxId = req.headers['e2b-sandbox-id'];
    // The time this call held its caller, kept per machine (the create's: under the machine it made).
    let spanOf = typeof sandboxId === 'string' ? sandboxId : url.pathname.split('/').filter(Boolean)[url.pathname.startsWith('/v2/') ? 2 : 1];
    res.on('close', () => spanOf && this.machines.span(spanOf, t0, epochMs()));
    const body = await readBody(req);
    if (typeof sandboxId === 'string') {
      this.envdRequests.push({ sandbox: sandboxId, method: req.method ?? '', path: url.pathname });
      return this.envd(sandboxId, req, url, body, res);
    }
    const json = body.length && String(req.headers['content-type']).includes('json') ? JSON.parse(body.toString('utf8')) : undefined;
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body: json });
    if (req.headers['x-api-key'] !== this.o.apiKey) return send(res, 401, { code: 401, message: 'Invalid API key' });
    if (this.faults.hang) return; // never answers: the SDK's request timeout must end the call
    const fail = this.faults.failures.shift();
    if (fail) return send(res, fail, { code: fail, message: fail === 429 ? 'Rate limit exceeded' : 'Internal server error' }, fail === 429 ? { 'retry-after': '0' } : {});
    const parts = url.pathname.split('/').filter(Boolean);
    // POST /v2/sandboxes
    if (req.method === 'POST' && url.pathname === '/v2/sandboxes') {
      const template = json?.templateID ?? 'base';
      if (!(this.o.templates ?? ['base', 'code-interpreter-v1']).includes(template)) return send(res, 404, { code: 404, message: `template '${template}' not found` });
      const m = this.machines.make('e2b', template, json?.metadata ?? {}, json?.envVars ?? {}, (json?.timeout ?? 300) * 1000);
      spanOf = m.id;
      return send(res, 201, this.sandboxJson(m));
    }
    if (req.method === 'GET' && url.pathname === '/v2/sandboxes') {
      const want = new URLSearchParams(url.searchParams.get('metadata') ?? '');
      const out = this.machines.live().filter((m) => [...want].every(([k, v]) => m.labels[k] === v));
      return send(res, 200, out.map((m) => ({ sandboxID: m.id, templateID: m.template, clientID: 'fake', startedAt: m.createdAt.toISOString(), endAt: new Date(m.createdAt.getTime() + m.lifetimeMs).toISOString(), cpuCount: 2, memoryMB: 512, diskSizeMB: 1024, metadata: m.labels, state: 'running', envdVersion: ENVD_VERSION })));
    }
    const id = parts[0] === 'v2' ? parts[2] : parts[1];
    const m = this.machines.get(id);
    if (!m) return send(res, 404, { code: 404, message: `sandbox ${id} not found` });
    if (req.method === 'DELETE' && parts[0] === 'sandboxes' && parts.length === 2) {
      this.machines.kill(m);
      return send(res, 204);
    }
    if (req.method === 'POST' && parts[2] === 'timeout') {
      m.lifetimeMs = Date.now() - m.createdAt.getTime() + json.timeout * 1000;
      return send(res, 204);
    }
    if (req.method === 'POST' && parts[0] === 'v2' && parts[3] === 'connect') return send(res, 200, this.sandboxJson(m));
    if (req.method === 'GET' && parts.length === 2) return send(res, 200, { ...this.sandboxJson(m), metadata: m.labels, state: 'running' });
    return send(res, 404, { code: 404, message: `no route ${req.method} ${url.pathname}` });
  }

  private sandboxJson(m: FakeMachine): Record<string, unknown> {
    let token = this.tokens.get(m.id);
    if (!token) this.tokens.set(m.id, (token = randomBytes(12).toString('hex')));
    return { sandboxID: m.id, templateID: m.template, clientID: 'fake', envdVersion: ENVD_VERSION, envdAccessToken: token, domain: null };
  }

  private async envd(id: string, req: http.IncomingMessage, url: URL, body: Buffer, res: http.ServerResponse): Promise<void> {
    const m = this.machines.get(id);
    if (!m) return send(res, 502, { code: 502, message: 'sandbox not found' });
    if (req.headers['x-access-token'] !== this.tokens.get(id)) return send(res, 401, { code: 401, message: 'bad access token' });
    if (url.pathname === '/health') return send(res, 204);
    if (url.pathname === '/files' && req.method === 'POST' && !url.searchParams.has('path')) return this.writeMany(m, req, body, res);
    if (url.pathname === '/files') {
      const abs = this.machines.inside(m, url.searchParams.get('path') ?? '');
      if (!abs) return send(res, 400, { code: 400, message: 'path outside the sandbox' });
      if (req.method === 'GET') {
        if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) return send(res, 404, { code: 404, message: `file ${url.searchParams.get('path')} not found` });
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(fs.readFileSync(abs));
      }
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
      const file = form.get('file') as Blob | null;
      if (!file) return send(res, 400, { code: 400, message: 'no file part' });
      this.machines.writeFile(m, abs, Buffer.from(await file.arrayBuffer()));
      return send(res, 200, [{ name: abs.split('/').pop(), path: abs, type: 'file' }]);
    }
    if (url.pathname === '/process.Process/Start') return this.start(m, body, res);
    if (url.pathname === '/process.Process/SendInput') {
      const j = JSON.parse(body.toString('utf8'));
      const p = this.pids.get(Number(j.process?.pid));
      if (!p?.input) return send(res, 404, { code: 'not_found', message: `process with pid ${j.process?.pid} not found` });
      if (typeof j.input?.pty === 'string') p.input(Buffer.from(j.input.pty, 'base64'));
      return send(res, 200, {});
    }
    if (url.pathname === '/process.Process/Update') {
      // envd's UpdateRequest: {process: {pid}, pty: {size: {cols, rows}}}; a process without a PTY cannot be resized.
      const j = JSON.parse(body.toString('utf8'));
      const p = this.pids.get(Number(j.process?.pid));
      if (!p) return send(res, 404, { code: 'not_found', message: `process with pid ${j.process?.pid} not found` });
      const size = j.pty?.size;
      if (size) {
        if (!p.pty) return send(res, 400, { code: 'invalid_argument', message: 'the process has no pty' });
        if (!Number.isInteger(size.cols) || !Number.isInteger(size.rows) || size.cols < 1 || size.rows < 1) return send(res, 400, { code: 'invalid_argument', message: 'bad pty size' });
        p.pty.resize(size.cols, size.rows);
      }
      return send(res, 200, {});
    }
    if (url.pathname === '/process.Process/SendSignal') {
      const j = JSON.parse(body.toString('utf8'));
      this.pids.get(Number(j.process?.pid))?.kill();
      return send(res, 200, {});
    }
    return send(res, 404, { code: 'not_found', message: `no route ${url.pathname}` });
  }

  /** Several files in one upload, as envd takes them: no `path` query, each `file` part named by its path. */
  private async writeMany(m: FakeMachine, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
    const parts = form.getAll('file').filter((f): f is File => typeof f !== 'string');
    if (!parts.length) return send(res, 400, { code: 400, message: 'no file part' });
    const out: Array<{ name: string; path: string; type: 'file' }> = [];
    for (const f of parts) {
      const abs = this.machines.inside(m, f.name);
      if (!abs) return send(res, 400, { code: 400, message: 'path outside the sandbox' });
      this.machines.writeFile(m, abs, Buffer.from(await f.arrayBuffer()));
      out.push({ name: abs.split('/').pop()!, path: abs, type: 'file' });
    }
    return send(res, 200, out);
  }

  /** Connect server-streaming: enveloped JSON frames, the last one flagged end-of-stream. */
  private start(m: FakeMachine, body: Buffer, res: http.ServerResponse): void {
    const reqMsg = JSON.parse(body.subarray(5, 5 + body.readUInt32BE(1)).toString('utf8'));
    const p = reqMsg.process ?? {};
    const size = reqMsg.pty?.size;
    const cmd = p.cmd === '/bin/bash' && Array.isArray(p.args) && p.args[p.args.length - 2] === '-c' ? p.args[p.args.length - 1] : [p.cmd, ...(p.args ?? [])].join(' ');
    const pty = size ? this.machines.spawnPty(m, [p.cmd, ...(p.args ?? [])], p.cwd, p.envs ?? {}, size.cols ?? 80, size.rows ?? 24) : undefined;
    const child = pty ? pty.child : this.machines.spawn(m, cmd, p.cwd, p.envs ?? {});
    const pid = this.nextPid++;
    child.stdin?.on('error', () => {}); // typed after the PTY ended
    this.pids.set(pid, { m, kill: () => killGroup(child), input: child.stdin ? (b) => void child.stdin!.write(b) : undefined, pty });
    res.writeHead(200, { 'content-type': 'application/connect+json' });
    const frame = (flag: number, msg: unknown) => {
      const json = Buffer.from(JSON.stringify(msg));
      const head = Buffer.alloc(5);
      head[0] = flag;
      head.writeUInt32BE(json.length, 1);
      res.write(Buffer.concat([head, json]));
    };
    frame(0, { event: { start: { pid } } });
    child.stdout!.on('data', (c: Buffer) => frame(0, { event: { data: size ? { pty: c.toString('base64') } : { stdout: c.toString('base64') } } }));
    child.stderr!.on('data', (c: Buffer) => frame(0, { event: { data: { stderr: c.toString('base64') } } }));
    child.on('close', (code, signal) => {
      this.pids.delete(pid);
      // A machine that died cuts its streams: the SDK sees the connection end without an end event.
      if (m.gone) return void res.destroy();
      frame(0, { event: { end: { exitCode: code ?? -1, exited: code !== null, status: signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}` } } });
      frame(2, {});
      res.end();
    });
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    return void res.end();
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
