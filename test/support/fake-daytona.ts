// A fake Daytona, written from the request shapes of @daytonaio/sdk and its API clients: one
// loopback HTTP server for the control plane (`<url>/api`: sandboxes created, got, listed by
// labels, given an auto-stop interval, deleted) and the toolbox every sandbox DTO points at
// (`<url>/toolbox/<id>`: sessions, their commands run asynchronously with logs streamed over a
// WebSocket with the 01 01 01 / 02 02 02 markers, the exit code read after; bulk file upload and
// download as multipart). Like Daytona's, a session is one shell: commands sent to it run in it.
// A PTY session is made and joined in one WebSocket (`process/pty/create-connect`, its environment
// in an `X-Daytona-Pty-Envs~` subprotocol): the daemon's `connected` control message, the terminal's
// output as binary frames, keystrokes the other way, and at the end an `exited` control message
// and a close whose reason carries the exit code; DELETE `process/pty/<id>` kills it. The PTY is a
// real one running the login shell the daemon runs (fake-machines.ts: util-linux `script`).
// Processes are real local processes in a folder per sandbox (fake-machines.ts).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeMachines, Faults, epochMs, killGroup, type FakeMachine, type FakePty } from './fake-machines';
import type { Recorded } from './fake-e2b';

export interface FakeDaytonaOptions {
  apiKey: string;
  snapshots?: string[];
}

interface PtySession {
  pty: FakePty;
  child: ChildProcess;
  cwd: string;
  envs: Record<string, string>;
  createdAt: Date;
  /** Each socket, and whether it asked for the `exited` control message. */
  sockets: Map<WebSocket, boolean>;
}

const EXIT_CONTROL = 'X-Daytona-Pty-Exit-Control';
const ENVS_PROTOCOL = 'X-Daytona-Pty-Envs~';

interface Command {
  id: string;
  command: string;
  exitCode?: number;
  /** Marked output, kept for a logs socket that connects late. */
  log: Buffer[];
  sockets: Set<WebSocket>;
  child: ChildProcess;
  ended: boolean;
}

const STDOUT = Buffer.from([1, 1, 1]);
const STDERR = Buffer.from([2, 2, 2]);

export class FakeDaytona {
  readonly machines = new FakeMachines('daytona');
  readonly faults = new Faults();
  readonly requests: Recorded[] = [];
  private readonly sessions = new Map<string, Map<string, Command>>();
  /** PTY sessions by `<machine>/<id>`. */
  private readonly ptys = new Map<string, PtySession>();
  /** PTY sockets, and whether what their clients send is left unread (holdPtyInput). */
  private readonly ptySockets = new Set<WebSocket>();
  private ptyInputHeld = false;
  private ptyWss!: WebSocketServer;
  private server!: http.Server;
  private wss!: WebSocketServer;
  private n = 0;
  url = '';

  constructor(private readonly o: FakeDaytonaOptions) {}

  get apiUrl(): string {
    return `${this.url}/api`;
  }

  static async start(o: FakeDaytonaOptions): Promise<FakeDaytona> {
    const f = new FakeDaytona(o);
    f.server = http.createServer((req, res) => void f.handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 500, message: String((e as Error).message) }));
    }));
    f.wss = new WebSocketServer({ noServer: true });
    // The daemon answers with one of the subprotocols offered (the SDK's socket insists on one).
    f.ptyWss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(EXIT_CONTROL) ? EXIT_CONTROL : ([...offered][0] ?? false)) });
    f.server.on('upgrade', (req, socket, head) => {
      const pty = /^\/toolbox\/([^/]+)\/process\/pty\/create-connect\?/.exec(req.url ?? '');
      if (pty) return f.ptyUpgrade(pty[1]!, req, socket, head);
      const m = /^\/toolbox\/([^/]+)\/process\/session\/([^/]+)\/command\/([^/?]+)\/logs/.exec(req.url ?? '');
      const cmd = m && f.sessions.get(`${m[1]}/${m[2]}`)?.get(m[3]!);
      if (!cmd || req.headers.authorization !== `Bearer ${o.apiKey}`) return void socket.destroy();
      const t0 = epochMs();
      f.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('close', () => f.machines.span(m[1]!, t0, epochMs()));
        for (const c of cmd.log) ws.send(c);
        if (cmd.ended) return ws.close(1000);
        cmd.sockets.add(ws);
        ws.on('close', () => cmd.sockets.delete(ws));
      });
    });
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** Stops (or resumes) reading what PTY clients send: their keystrokes back up in their own sockets. */
  holdPtyInput(hold: boolean): void {
    this.ptyInputHeld = hold;
    for (const ws of this.ptySockets) if (hold) ws.pause();
    else ws.resume();
  }

  private ptyUpgrade(machineId: string, req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const m = this.machines.get(machineId);
    if (!m || req.headers.authorization !== `Bearer ${this.o.apiKey}`) return void socket.destroy();
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const key = `${m.id}/${q.get('id')}`;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const envsToken = offered.find((p) => p.startsWith(ENVS_PROTOCOL));
    const envs = envsToken ? (JSON.parse(Buffer.from(envsToken.slice(ENVS_PROTOCOL.length), 'base64url').toString('utf8')) as Record<string, string>) : {};
    this.ptyWss.handleUpgrade(req, socket, head, (ws) => {
      if (!q.get('id') || this.ptys.has(key)) {
        ws.send(JSON.stringify({ type: 'control', status: 'error', error: `PTY session with ID '${q.get('id')}' already exists` }));
        return ws.close();
      }
      const cwd = q.get('cwd') || m.home;
      const pty = this.machines.spawnPty(m, ['/bin/bash', '-i', '-l'], cwd, envs, Number(q.get('cols') ?? 80), Number(q.get('rows') ?? 24));
      const child = pty.child;
      child.stdin!.on('error', () => {}); // typed after the PTY ended
      const s: PtySession = { pty, child, cwd, envs, createdAt: new Date(), sockets: new Map([[ws, offered.includes(EXIT_CONTROL)]]) };
      this.ptys.set(key, s);
      this.ptySockets.add(ws);
      ws.on('close', () => this.ptySockets.delete(ws));
      if (this.ptyInputHeld) ws.pause();
      ws.on('message', (d: Buffer) => void child.stdin!.write(d));
      ws.on('close', () => s.sockets.delete(ws));
      ws.send(JSON.stringify({ type: 'control', status: 'connected' }));
      child.stdout!.on('data', (c: Buffer) => {
        for (const w of s.sockets.keys()) w.send(c);
      });
      child.on('close', (code, signal) => {
        this.ptys.delete(key);
        // A machine that died cuts its sockets: the SDK sees them close without an exit code.
        if (m.gone) return;
        const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
        for (const [w, control] of s.sockets) {
          if (control) w.send(JSON.stringify({ type: 'control', status: 'exited', exitCode }));
          w.close(exitCode === 0 ? 1000 : 1011, JSON.stringify(exitCode === 0 ? { exitCode } : { exitCode, exitReason: 'non-zero exit' }));
        }
      });
    });
  }

  killMachine(id: string): void {
    const m = this.machines.get(id);
    if (!m) return;
    this.machines.kill(m);
    for (const [key, p] of this.ptys) if (key.startsWith(`${id}/`)) for (const ws of p.sockets.keys()) ws.terminate();
    for (const [key, cmds] of this.sessions) if (key.startsWith(`${id}/`)) for (const c of cmds.values()) for (const ws of c.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    this.machines.close();
    for (const ws of this.wss.clients) ws.terminate();
    for (const ws of this.ptyWss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private dto(m: FakeMachine, state = 'started'): Record<string, unknown> {
    return {
      id: m.id, name: m.id, organizationId: 'org', snapshot: m.template, user: 'daytona', env: m.env, labels: m.labels, public: false, target: 'us',
      cpu: 1, gpu: 0, memory: 1, disk: 3, state, autoStopInterval: Math.ceil(m.lifetimeMs / 60_000), autoDeleteInterval: 0,
      toolboxProxyUrl: `${this.url}/toolbox`, createdAt: m.createdAt.toISOString(), updatedAt: new Date().toISOString(),
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = epochMs();
    const url = new URL(req.url ?? '/', 'http://x');
    const segs = url.pathname.split('/').filter(Boolean);
    // The time this call held its caller, kept per machine (the create's: under the machine it made).
    let spanOf = segs[0] === 'toolbox' ? segs[1] : segs[1] === 'sandbox' ? segs[2] : undefined;
    res.on('close', () => spanOf && this.machines.span(spanOf, t0, epochMs()));
    const body = await readBody(req);
    const isJson = String(req.headers['content-type']).includes('json');
    const json = body.length && isJson ? JSON.parse(body.toString('utf8')) : undefined;
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body: json });
    if (req.headers.authorization !== `Bearer ${this.o.apiKey}`) return send(res, 401, { statusCode: 401, message: 'Invalid credentials', code: 'UNAUTHORIZED' });
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'toolbox') return this.toolbox(parts.slice(1), req, url, body, json, res);
    if (parts[0] !== 'api') return send(res, 404, { statusCode: 404, message: 'no route' });
    if (this.faults.hang) return;
    const fail = this.faults.failures.shift();
    if (fail) return send(res, fail, { statusCode: fail, message: fail === 429 ? 'Too many requests' : 'Internal server error' });
    const rest = parts.slice(1);
    if (req.method === 'POST' && rest.length === 1 && rest[0] === 'sandbox') {
      const snapshot = json?.snapshot ?? 'daytona-default';
      if (!(this.o.snapshots ?? ['daytona-default']).includes(snapshot)) return send(res, 404, { statusCode: 404, message: `Snapshot ${snapshot} not found`, code: 'NOT_FOUND' });
      const m = this.machines.make('dtn', snapshot, json?.labels ?? {}, json?.env ?? {}, (json?.autoStopInterval ?? 15) * 60_000);
      spanOf = m.id;
      return send(res, 200, this.dto(m));
    }
    if (req.method === 'GET' && rest.length === 1 && rest[0] === 'sandbox') {
      const want = JSON.parse(url.searchParams.get('labels') ?? '{}') as Record<string, string>;
      const items = this.machines.live().filter((m) => Object.entries(want).every(([k, v]) => m.labels[k] === v)).map((m) => this.dto(m));
      return send(res, 200, { items, total: items.length, page: 1, totalPages: 1, nextCursor: null });
    }
    const m = rest[0] === 'sandbox' ? this.machines.get(rest[1]) : undefined;
    if (!m) return send(res, 404, { statusCode: 404, message: `Sandbox with ID or name ${rest[1]} not found`, code: 'NOT_FOUND' });
    if (req.method === 'GET' && rest.length === 2) return send(res, 200, this.dto(m));
    if (req.method === 'DELETE' && rest.length === 2) {
      this.killMachine(m.id);
      return send(res, 200, this.dto(m, 'destroyed'));
    }
    if (req.method === 'POST' && rest[2] === 'autostop') {
      m.lifetimeMs = Date.now() - m.createdAt.getTime() + Number(rest[3]) * 60_000;
      return send(res, 200, {});
    }
    return send(res, 404, { statusCode: 404, message: `no route ${req.method} ${url.pathname}` });
  }

  private async toolbox(parts: string[], req: http.IncomingMessage, _url: URL, body: Buffer, json: any, res: http.ServerResponse): Promise<void> {
    const m = this.machines.get(parts[0]);
    if (!m) return send(res, 502, { statusCode: 502, message: 'sandbox is not running' });
    const path = parts.slice(1).join('/');
    if (req.method === 'POST' && path === 'process/execute') {
      // Synchronous: the command's output (stdout and stderr merged) and exit code in the answer.
      const child = this.machines.spawn(m, json.command, json.cwd || m.home, json.envs ?? {});
      const out: Buffer[] = [];
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => out.push(c));
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 137)));
      if (m.gone) return send(res, 502, { statusCode: 502, message: 'sandbox is not running' });
      return send(res, 200, { exitCode: code, result: Buffer.concat(out).toString('utf8') });
    }
    if (req.method === 'POST' && path === 'process/session') {
      this.sessions.set(`${m.id}/${json.sessionId}`, new Map());
      return send(res, 201, {});
    }
    const s = /^process\/session\/([^/]+)(?:\/(exec|command\/([^/]+)))?$/.exec(path);
    if (s) {
      const key = `${m.id}/${s[1]}`;
      const cmds = this.sessions.get(key);
      if (!cmds) return send(res, 404, { statusCode: 404, message: `session ${s[1]} not found` });
      if (req.method === 'DELETE' && !s[2]) {
        for (const c of cmds.values()) killGroup(c.child);
        this.sessions.delete(key);
        return send(res, 204);
      }
      if (req.method === 'POST' && s[2] === 'exec') return send(res, 200, { cmdId: this.exec(m, cmds, json.command) });
      if (req.method === 'GET' && s[3]) {
        const c = cmds.get(s[3]);
        if (!c) return send(res, 404, { statusCode: 404, message: 'command not found' });
        return send(res, 200, { id: c.id, command: c.command, exitCode: c.exitCode });
      }
    }
    const resize = /^process\/pty\/([^/]+)\/resize$/.exec(path);
    if (resize && req.method === 'POST') {
      // The toolbox's PtyResizeRequest {cols, rows}; the answer is the session's PtySessionInfo.
      const p = this.ptys.get(`${m.id}/${resize[1]}`);
      if (!p) return send(res, 404, { error: 'PTY session not found' });
      const { cols, rows } = json ?? {};
      if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) return send(res, 400, { error: 'cols and rows must be positive integers' });
      p.pty.resize(cols, rows);
      return send(res, 200, { id: resize[1], active: true, cols, rows, cwd: p.cwd, envs: p.envs, createdAt: p.createdAt.toISOString(), lazyStart: false });
    }
    const pty = /^process\/pty\/([^/]+)$/.exec(path);
    if (pty && req.method === 'DELETE') {
      const p = this.ptys.get(`${m.id}/${pty[1]}`);
      if (!p) return send(res, 404, { error: 'PTY session not found' });
      killGroup(p.child);
      return send(res, 200, { message: 'PTY session deleted' });
    }
    if (req.method === 'POST' && path === 'files/bulk-upload') {
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
      for (let i = 0; form.has(`files[${i}].path`); i++) {
        const abs = this.machines.inside(m, String(form.get(`files[${i}].path`)));
        if (!abs) return send(res, 400, { statusCode: 400, message: 'path outside the sandbox' });
        this.machines.writeFile(m, abs, Buffer.from(await (form.get(`files[${i}].file`) as Blob).arrayBuffer()));
      }
      return send(res, 200, {});
    }
    if (req.method === 'POST' && path === 'files/bulk-download') {
      const form = new FormData();
      for (const p of json.paths as string[]) {
        const abs = this.machines.inside(m, p);
        if (abs && fs.existsSync(abs) && fs.statSync(abs).isFile()) form.append('file', new Blob([new Uint8Array(fs.readFileSync(abs))], { type: 'application/octet-stream' }), p);
        else form.append('error', new Blob([JSON.stringify({ message: `file not found: ${p}`, statusCode: 404, code: 'NOT_FOUND' })], { type: 'application/json' }), p);
      }
      const r = new Response(form);
      res.writeHead(200, { 'content-type': r.headers.get('content-type')! });
      return void res.end(Buffer.from(await r.arrayBuffer()));
    }
    return send(res, 404, { statusCode: 404, message: `no toolbox route ${req.method} ${path}` });
  }

  private exec(m: FakeMachine, cmds: Map<string, Command>, command: string): string {
    const id = `cmd${++this.n}`;
    const child = this.machines.spawn(m, command, m.home);
    const c: Command = { id, command, log: [], sockets: new Set(), child, ended: false };
    cmds.set(id, c);
    const out = (mark: Buffer) => (chunk: Buffer) => {
      const framed = Buffer.concat([mark, chunk]);
      c.log.push(framed);
      for (const ws of c.sockets) ws.send(framed);
    };
    child.stdout!.on('data', out(STDOUT));
    child.stderr!.on('data', out(STDERR));
    child.on('close', (code, signal) => {
      if (m.gone) return;
      c.exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      c.ended = true;
      for (const ws of c.sockets) ws.close(1000);
    });
    return id;
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

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    return void res.end();
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
