// The control thread's side of the page's login: POST /ui/login, GET /ui/session, POST /ui/logout,
// and the check a worker makes for a request that carries only the session cookie (`ui.auth`).
// Workers relay these as control calls; the session table lives here alone, so every worker (and a
// worker that replaced one) sees the same sessions.
import { createHash, timingSafeEqual } from 'node:crypto';
import { durationSeconds, isValidDuration } from '../admin/durations';
import type { GeneralSettings } from '../config/types';
import { log } from '../log';
import { clearedCookie, sessionCookie } from './http-headers';
import { LoginLimiter } from './login-limiter';
import { identify, loginBody, type LoginDeps } from './login';
import { SessionTable, sessionView, type SessionActor } from './session-table';

export const DEFAULT_SESSION_SECONDS = 12 * 3600;
const WRONG_CREDENTIALS = 'Invalid credentials used to access UI. Check the username and password, or the key.';

type Reply = { status: number; body: unknown; headers?: string[] };

function openAIError(status: number, message: string, type: string, headers: string[] = []): Reply {
  return { status, body: { error: { message, type, param: null, code: String(status) } }, headers };
}

/**
 * How long a session lives: general_settings.ui_session_duration (a duration as keys take, "12h",
 * "30m", "45s", or seconds as a number), else LiteLLM's LITELLM_UI_SESSION_DURATION, else 12 hours.
 */
export function sessionSeconds(settings: GeneralSettings, env: NodeJS.ProcessEnv): number {
  for (const v of [settings.ui_session_duration, env.LITELLM_UI_SESSION_DURATION]) {
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.ceil(v);
    if (typeof v === 'string' && /^\d+$/.test(v.trim()) && Number(v) > 0) return Number(v);
    if (typeof v === 'string' && isValidDuration(v.trim())) {
      const s = durationSeconds(v.trim());
      if (s > 0) return s;
    }
  }
  return DEFAULT_SESSION_SECONDS;
}

export interface UiLoginParams {
  body: unknown;
  address: string;
  secure: boolean;
  /** The session cookie the request already had: replaced by the new one. */
  token: string | null;
}

export interface UiAuthParams {
  token: string;
  method: string;
  csrf: string | null;
}

export interface UiControlDeps {
  login: () => LoginDeps;
  settings: () => GeneralSettings;
  env: NodeJS.ProcessEnv;
  /** Blocks the keys minted for ended sessions (Governance.blockRunKeys). */
  blockKeys: ((hashes: string[]) => Promise<void>) | null;
}

function sameToken(given: string | null, expected: string): boolean {
  if (given === null) return false;
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class UiControl {
  readonly sessions: SessionTable;
  readonly limiter = new LoginLimiter();

  constructor(
    private readonly deps: UiControlDeps,
    sessions = new SessionTable(),
  ) {
    this.sessions = sessions;
  }

  async login(p: UiLoginParams): Promise<Reply> {
    const wait = this.limiter.retryAfterS(p.address);
    if (wait > 0) return openAIError(429, `Too many failed logins from this address; try again in ${wait} s.`, 'rate_limit_error', ['retry-after', String(wait)]);
    const body = loginBody(p.body);
    if (!body) return openAIError(400, 'Send {"username": …, "password": …} or {"key": "sk-…"} as JSON.', 'bad_request_error');
    const seconds = sessionSeconds(this.deps.settings(), this.deps.env);
    let who;
    try {
      who = await identify(body, this.deps.login(), seconds);
    } catch (e) {
      // The database did not answer, or the session's key could not be minted (an
      // upperbound_key_generate_params refusing the session's duration, say): said as it is.
      log.error(`ui login: ${(e as Error).message}`);
      return openAIError(503, `Login could not complete: ${(e as Error).message}`, 'service_unavailable');
    }
    if (!who) {
      this.limiter.failed(p.address);
      return openAIError(401, WRONG_CREDENTIALS, 'auth_error');
    }
    this.limiter.succeeded(p.address);
    this.end(this.sessions.remove(p.token)?.mintedKey ?? null);
    const { token, session } = this.sessions.create(who, seconds * 1000);
    return { status: 200, body: sessionView(session), headers: ['set-cookie', sessionCookie(token, seconds, p.secure), 'cache-control', 'no-store'] };
  }

  session(token: string | null): Reply {
    const s = this.sessions.find(token);
    if (!s) return openAIError(401, 'No session: log in.', 'auth_error');
    return { status: 200, body: sessionView(s), headers: ['cache-control', 'no-store'] };
  }

  logout(token: string | null, secure: boolean): Reply {
    const s = this.sessions.remove(token);
    this.end(s?.mintedKey ?? null);
    return { status: 200, body: { status: 'logged out' }, headers: ['set-cookie', clearedCookie(secure), 'cache-control', 'no-store'] };
  }

  /** A cookie-only request: who it acts as, or why not (401 unknown/expired, 403 CSRF). */
  auth(p: UiAuthParams): { status: 200; actor: SessionActor } | { status: 401 | 403 } {
    const s = this.sessions.find(p.token);
    if (!s) return { status: 401 };
    if (!SAFE_METHODS.has(p.method) && !sameToken(p.csrf, s.csrf)) return { status: 403 };
    return { status: 200, actor: s.actor };
  }

  private end(mintedKey: string | null): void {
    if (!mintedKey || !this.deps.blockKeys) return;
    this.deps.blockKeys([mintedKey]).catch((e: unknown) => log.warn(`ui logout: the session's key was not blocked: ${(e as Error).message}`));
  }
}
