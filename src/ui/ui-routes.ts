// The worker's /ui routes: the built page (static-serve.ts), and the login endpoints and the live
// stream, which are relayed to the control thread (it owns the sessions and every metrics shard).
// Every answer carries the contract's security headers.
import type { ControlRpc, OpenStream } from '../gateway/gateway-core';
import type { Identity } from '../gateway/identity';
import { type Exchange, JSON_TYPE } from '../server/exchange';
import { cameOverHttps, cookieValue, SESSION_COOKIE, withSecurity } from './http-headers';
import { serveStatic } from './static-serve';
import type { StaticBundle } from './static-files';

/** A login body is two short strings. */
export const LOGIN_MAX_BODY_BYTES = 64 * 1024;
/** The /ui paths answered by the routes below rather than by the page's files. */
export const UI_API_PATHS = ['/ui/login', '/ui/session', '/ui/logout', '/ui/live'];

/** Roles that may watch the live stream (it shows every key's traffic). */
const LIVE_ROLES = new Set(['proxy_admin', 'proxy_admin_viewer']);

function apiError(ex: Exchange, status: number, message: string, type: string, extra: string[] = []): void {
  ex.respond(status, withSecurity(JSON_TYPE.concat(extra)), JSON.stringify({ error: { message, type, param: null, code: String(status) } }));
}

function relayed(ex: Exchange, r: { status: number; body: unknown; headers?: string[] }): void {
  if (!ex.aborted) ex.respond(r.status, withSecurity(JSON_TYPE.concat(r.headers ?? [])), JSON.stringify(r.body));
}

export class UiRoutes {
  constructor(
    private readonly bundle: StaticBundle,
    private readonly rpc: ControlRpc,
    private readonly openStream: OpenStream,
  ) {}

  page(ex: Exchange): void {
    serveStatic(ex, this.bundle);
  }

  login(ex: Exchange): void {
    if (ex.method !== 'POST') return apiError(ex, 405, 'Method not allowed on /ui/login; use POST', 'method_not_allowed', ['allow', 'POST']);
    // Read while the request is live (uWS forgets the socket's address afterwards).
    const address = ex.remoteAddress();
    const token = cookieValue(ex.headers.cookie, SESSION_COOKIE);
    const secure = cameOverHttps(ex.headers);
    ex.readBody(LOGIN_MAX_BODY_BYTES, (raw, tooLarge) => {
      if (tooLarge || !raw) return apiError(ex, 413, 'Request body is larger than 64 KB', 'request_too_large');
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return apiError(ex, 400, 'Request body is not valid JSON.', 'bad_request_error');
      }
      this.rpc('ui.login', { body, address, secure, token }).then(
        (r) => relayed(ex, r),
        (e: unknown) => apiError(ex, 500, `control thread: ${(e as Error).message}`, 'internal_server_error'),
      );
    });
  }

  session(ex: Exchange): void {
    if (ex.method !== 'GET') return apiError(ex, 405, 'Method not allowed on /ui/session; use GET', 'method_not_allowed', ['allow', 'GET']);
    this.rpc('ui.session', { token: cookieValue(ex.headers.cookie, SESSION_COOKIE) }).then(
      (r) => relayed(ex, r),
      (e: unknown) => apiError(ex, 500, `control thread: ${(e as Error).message}`, 'internal_server_error'),
    );
  }

  logout(ex: Exchange): void {
    if (ex.method !== 'POST') return apiError(ex, 405, 'Method not allowed on /ui/logout; use POST', 'method_not_allowed', ['allow', 'POST']);
    this.rpc('ui.logout', { token: cookieValue(ex.headers.cookie, SESSION_COOKIE), secure: cameOverHttps(ex.headers) }).then(
      (r) => relayed(ex, r),
      (e: unknown) => apiError(ex, 500, `control thread: ${(e as Error).message}`, 'internal_server_error'),
    );
  }

  /** GET /ui/live, once the caller (session or key) is known. */
  live(ex: Exchange, who: Identity): void {
    if (ex.method !== 'GET') return apiError(ex, 405, 'Method not allowed on /ui/live; use GET', 'method_not_allowed', ['allow', 'GET']);
    if (who.kind === 'key' && !LIVE_ROLES.has(who.profile.userRole ?? '')) {
      return apiError(ex, 403, `Only proxy_admin and proxy_admin_viewer may watch live traffic. Your role=${who.profile.userRole ?? 'unknown'}`, 'auth_error');
    }
    let started = false;
    // A client that stops reading misses ticks rather than growing a buffer: each tick is whole.
    let writable = true;
    const close = this.openStream('ui.live', null, {
      head: (status, headers) => {
        if (ex.aborted) return;
        started = true;
        ex.startStream(status, withSecurity(headers));
      },
      data: (chunk) => {
        if (ex.aborted || !started || !writable) return;
        if (!ex.write(chunk)) {
          writable = false;
          ex.onWritable(() => (writable = true));
        }
      },
      end: () => {
        if (ex.aborted) return;
        if (started) ex.end();
        else apiError(ex, 503, 'live stream ended before it started', 'service_unavailable');
      },
    });
    ex.onAbort(close);
  }
}
