// The floor for any Node gateway: a pass-through proxy on uWebSockets.js + an undici Pool, with no
// auth, routing or accounting. Worker threads share the port with SO_REUSEPORT, as Weir's do.
//   node dist/native-bench/minimal-proxy.js --upstream http://127.0.0.1:PORT --port P [--host 127.0.0.1] [--workers N]
// Prints `MINIMAL_READY {"url":...,"port":...}` once every worker listens. It exits when its stdin
// closes (the bench holds the other end) or on SIGTERM (default action: no cleanup needed).
// The port must be non-zero: uSockets sets SO_REUSEPORT only when binding a given port.
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Pool, type Dispatcher } from 'undici';

interface Options {
  upstream: string;
  host: string;
  port: number;
  workers: number;
}

export function parseMinimalArgs(argv: string[]): Options {
  const o: Options = { upstream: '', host: '127.0.0.1', port: 0, workers: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--upstream') o.upstream = v;
    else if (a === '--host') o.host = v;
    else if (a === '--port') o.port = Number(v);
    else if (a === '--workers') o.workers = Number(v);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.upstream) throw new Error('--upstream URL is required');
  if (!Number.isInteger(o.port) || o.port <= 0) throw new Error('--port must be a non-zero port (SO_REUSEPORT needs it)');
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error('--workers must be >= 1');
  return o;
}

// ---- worker ------------------------------------------------------------------------------

interface UwsRes {
  cork(cb: () => void): UwsRes;
  writeStatus(s: string): UwsRes;
  writeHeader(k: string, v: string): UwsRes;
  write(c: Uint8Array | string): boolean;
  end(b?: Uint8Array | string): UwsRes;
  close(): UwsRes;
  onAborted(h: () => void): UwsRes;
  onData(h: (ab: ArrayBuffer, last: boolean) => void): UwsRes;
  onWritable(h: (offset: number) => boolean): UwsRes;
}
interface UwsReq {
  getUrl(): string;
  getQuery(): string | undefined;
  getMethod(): string;
  forEach(cb: (k: string, v: string) => void): void;
}
interface Uws {
  App(): {
    any(p: string, h: (res: UwsRes, req: UwsReq) => void): unknown;
    listen(host: string, port: number, cb: (s: unknown) => void): unknown;
  };
}

const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer']);
const NOT_ECHOED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);
const statusLines = new Map<number, string>();
const statusLine = (s: number): string => {
  let l = statusLines.get(s);
  if (!l) statusLines.set(s, (l = `${s} ${STATUS_CODES[s] ?? 'Unknown'}`));
  return l;
};

/** One proxied exchange; also the undici dispatch handler (no promise chain per request). */
class Exchange implements Dispatcher.DispatchHandler {
  private aborted = false;
  private done = false;
  private streaming = false;
  private chunks: Buffer[] = [];
  private controller: Dispatcher.DispatchController | null = null;

  constructor(private readonly res: UwsRes) {
    res.onAborted(() => {
      this.aborted = true;
      this.controller?.abort(new Error('client gone'));
    });
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.aborted) c.abort(new Error('client gone'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    // A response with a length is buffered and sent in one write; anything else (SSE) is piped.
    this.streaming = headers['content-length'] === undefined;
    if (this.aborted) return;
    const write = () => {
      this.res.writeStatus(statusLine(status));
      for (const k in headers) {
        if (NOT_ECHOED.has(k)) continue;
        const v = headers[k];
        if (v !== undefined) this.res.writeHeader(k, Array.isArray(v) ? v.join(', ') : v);
      }
    };
    if (this.streaming) this.res.cork(write);
    else this.head = write;
  }

  private head: (() => void) | null = null;

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.aborted) return;
    if (!this.streaming) {
      this.chunks.push(chunk);
      return;
    }
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    if (!ok) {
      c.pause();
      this.res.onWritable(() => {
        c.resume();
        return true;
      });
    }
  }

  onResponseEnd(): void {
    if (this.aborted || this.done) return;
    this.done = true;
    const body = this.streaming ? undefined : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.res.cork(() => {
      this.head?.();
      this.res.end(body);
    });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.aborted || this.done) return;
    this.done = true;
    if (this.streaming) {
      this.res.close();
      return;
    }
    this.res.cork(() => {
      this.res.writeStatus('502 Bad Gateway').writeHeader('content-type', 'application/json');
      this.res.end(JSON.stringify({ error: { message: `upstream: ${err.message}`, type: 'bad_gateway' } }));
    });
  }
}

function runWorker(o: Options): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const uws = require('@trufflesuite/uws-js-unofficial') as Uws;
  const pool = new Pool(o.upstream, {
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { noDelay: true, keepAlive: true },
  });
  const app = uws.App();
  app.any('/*', (res, req) => {
    const q = req.getQuery();
    const path = q ? `${req.getUrl()}?${q}` : req.getUrl();
    const method = req.getMethod().toUpperCase();
    const headers: string[] = [];
    req.forEach((k, v) => {
      if (!HOP.has(k)) headers.push(k, v);
    });
    const ex = new Exchange(res);
    const parts: Buffer[] = [];
    let size = 0;
    res.onData((ab, last) => {
      const chunk = Buffer.from(new Uint8Array(ab)); // copies: uWS reuses `ab`
      parts.push(chunk);
      size += chunk.length;
      if (!last) return;
      const body = method === 'GET' || method === 'HEAD' ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      pool.dispatch({ path, method: method as Dispatcher.HttpMethod, headers, body }, ex);
    });
  });
  app.listen(o.host, o.port, (s) => {
    if (!s) {
      parentPort!.postMessage({ type: 'fatal', error: `cannot listen on ${o.host}:${o.port}` });
      return;
    }
    parentPort!.postMessage({ type: 'ready' });
  });
}

async function runMain(o: Options): Promise<void> {
  const workers: Worker[] = [];
  await Promise.all(
    Array.from({ length: o.workers }, () => {
      const w = new Worker(__filename, { workerData: o });
      workers.push(w);
      return new Promise<void>((resolve, reject) => {
        w.on('message', (m: { type: string; error?: string }) => (m.type === 'ready' ? resolve() : reject(new Error(m.error))));
        w.once('error', reject);
      });
    }),
  );
  process.stdout.write(`MINIMAL_READY ${JSON.stringify({ url: `http://${o.host}:${o.port}`, port: o.port, workers: o.workers })}\n`);
  // The bench holds our stdin; when it goes away (even killed outright), so do we. Exiting under
  // live uWS threads can abort Node, so die by SIGKILL, which skips every teardown.
  const die = () => process.kill(process.pid, 'SIGKILL');
  process.stdin.on('end', die);
  process.stdin.on('error', die);
  process.stdin.resume();
}

if (!isMainThread) {
  runWorker(workerData as Options);
} else if (require.main === module) {
  let opts: Options;
  try {
    opts = parseMinimalArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`minimal-proxy: ${(e as Error).message}\n`);
    process.exit(2);
  }
  runMain(opts).catch((e: Error) => {
    process.stderr.write(`minimal-proxy: ${e.message}\n`);
    process.kill(process.pid, 'SIGKILL');
  });
}
