// Provider pass-through routes (LiteLLM's /anthropic/* and /openai/*): the caller authenticates
// with a Weir key (master or virtual), the rest of the path goes to the provider's base URL with
// the provider credentials from the environment, and the answer streams back untouched. Weir's
// routing, translation and accounting are not involved.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Exchange, HeaderList } from '../server/exchange';
import { errorBody, GatewayError, streamErrorEvent } from './errors';
import { EventAligner } from './sse-align';
import { poolFor } from './upstream-pool';

interface Provider {
  base: string;
  auth: string[];
  /** The framing of an error event that ends a stream this route cut short. */
  dialect: 'anthropic' | 'openai' | 'responses';
}

/** Hop-by-hop and client credential headers are not forwarded. */
const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'authorization', 'x-api-key', 'api-key', 'x-litellm-api-key', 'accept-encoding']);
const NOT_RETURNED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'server']);

export const PASS_THROUGH_PREFIXES = ['/anthropic/', '/openai/'];

function provider(path: string, env: NodeJS.ProcessEnv): { p: Provider; rest: string } | null {
  if (path.startsWith('/anthropic/')) {
    const key = env.ANTHROPIC_API_KEY;
    return { p: { base: env.ANTHROPIC_API_BASE ?? 'https://api.anthropic.com', auth: key ? ['x-api-key', key] : [], dialect: 'anthropic' }, rest: path.slice('/anthropic'.length) };
  }
  if (path.startsWith('/openai/')) {
    const key = env.OPENAI_API_KEY;
    const rest = path.slice('/openai'.length);
    const dialect = /^(\/v1)?\/responses/.test(rest) ? 'responses' : 'openai';
    return { p: { base: env.OPENAI_API_BASE ?? 'https://api.openai.com', auth: key ? ['authorization', `Bearer ${key}`] : [], dialect }, rest };
  }
  return null;
}

class Pipe implements Dispatcher.DispatchHandler {
  private started = false;
  /** Set for an SSE answer: forwarded whole event by whole event (see sse-align). */
  private aligner: EventAligner | null = null;

  constructor(
    private readonly ex: Exchange,
    private readonly dialect: Provider['dialect'],
  ) {}
  onRequestStart(c: Dispatcher.DispatchController): void {
    this.ex.onAbort(() => c.abort(new Error('client disconnected')));
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    const h: HeaderList = [];
    for (const name in headers) {
      const v = headers[name];
      if (v !== undefined && !NOT_RETURNED.has(name)) h.push(name, Array.isArray(v) ? v.join(', ') : v);
    }
    if (String(headers['content-type'] ?? '').startsWith('text/event-stream')) this.aligner = new EventAligner();
    this.started = true;
    this.ex.startStream(status, h);
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    const out = this.aligner ? this.aligner.push(chunk) : chunk;
    if (out.length && !this.ex.write(out)) {
      c.pause();
      this.ex.onWritable(() => c.resume());
    }
  }
  onResponseEnd(): void {
    const held = this.aligner?.end();
    if (held) this.ex.write(held);
    this.ex.end();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.ex.aborted) return;
    const message = `pass-through upstream failed: ${err.message}`;
    if (!this.started) {
      const error = new GatewayError(502, message, 'api_connection_error');
      this.ex.respond(502, ['content-type', 'application/json'], errorBody(this.dialect === 'anthropic' ? 'anthropic' : 'openai', error));
    } else if (this.aligner) {
      // The status line is out: a stream ends in an error event of its own framing, after its last whole event.
      this.aligner.discard();
      this.ex.write(streamErrorEvent(this.dialect, new GatewayError(502, message, 'api_connection_error')));
      this.ex.end();
    } else {
      // A plain body cut midway: the client must see it cut, not complete.
      this.ex.destroy();
    }
  }
}

export function passThrough(ex: Exchange, body: Buffer | null, env: NodeJS.ProcessEnv = process.env): void {
  const target = provider(ex.path, env);
  if (!target) throw new GatewayError(404, `Route not found: ${ex.method} ${ex.path}`, 'not_found_error');
  const url = new URL(target.p.base);
  const basePath = url.pathname.replace(/\/+$/, '');
  const headers: string[] = [];
  for (const [k, v] of Object.entries(ex.headers)) if (!NOT_FORWARDED.has(k)) headers.push(k, v);
  headers.push(...target.p.auth);
  const path = `${basePath}${target.rest}${ex.query ? `?${ex.query}` : ''}`;
  poolFor(url.origin).dispatch({ path, method: ex.method as Dispatcher.HttpMethod, headers, body: body && body.length ? body : null }, new Pipe(ex, target.p.dialect));
}

/** The error dialect of a pass-through route: Anthropic's for /anthropic/*, OpenAI's otherwise. */
export function passThroughDialect(path: string): 'anthropic' | 'openai' {
  return path.startsWith('/anthropic') ? 'anthropic' : 'openai';
}
