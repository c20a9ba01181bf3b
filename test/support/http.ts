// Small HTTP helpers for tests: one call with the whole answer (pooled, or on a fresh connection
// with the arrival time of every chunk), and an SSE parser.
import http from 'node:http';
import { request } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export async function call(base: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
  const res = await request(base + path, {
    method: (opts.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body,
  });
  const text = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers, text, json };
}

export interface FreshAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
  /** Body chunks with the time (ms since the request was sent) each arrived. */
  chunks: { at: number; data: string }[];
}

export interface FreshCallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Abort after this long. */
  timeoutMs: number;
}

/**
 * One HTTP call on a fresh connection (no agent, `connection: close`): with several gateway
 * workers sharing the port, fresh connections are what spreads calls over all of them.
 */
export function callFresh(base: string, path: string, opts: FreshCallOptions): Promise<FreshAnswer> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: {
          connection: 'close',
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...opts.headers,
        },
        timeout: opts.timeoutMs,
      },
      (res) => {
        const chunks: { at: number; data: string }[] = [];
        res.setEncoding('utf8');
        res.on('data', (d: string) => chunks.push({ at: Date.now() - started, data: d }));
        res.on('error', reject);
        res.on('end', () => {
          const text = chunks.map((c) => c.data).join('');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, chunks });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface SseEvent {
  event?: string;
  data: string;
}

export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const ev: SseEvent = { data: '' };
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.data += line.slice(6);
    }
    out.push(ev);
  }
  return out;
}
