// Google OAuth access tokens for Vertex AI, through google-auth-library (never hand-rolled): a
// service account's JSON (given as a file path, or the JSON itself) or Application Default
// Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's file, the metadata server), scope
// cloud-platform.
//
// One cache per credential per thread. A request takes the cached token synchronously; only when
// there is no valid token at all (the first call, or after a failed refresh let it expire) does it
// wait, and concurrent waiters share one fetch. Once a token arrives, a timer (unref'd: it never
// keeps a thread alive) fetches the next one before this one expires: at the larger of "expiry
// minus 5 minutes" and "half its lifetime", so short-lived tokens are not refreshed in a loop.
//
// token_uri: google-auth-library v10 posts the JWT assertion to https://oauth2.googleapis.com/token
// whatever the credential says. The credential's own token_uri (a private or regional endpoint, a
// test's fake) is honoured by the transport: requests to the default token URL go to it instead.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const REFRESH_MARGIN_MS = 5 * 60_000;
/** When a token comes without an expiry, it is refreshed after this long. */
const ASSUMED_LIFETIME_MS = 30 * 60_000;
/** After a failed refresh, the next attempt (the current token may still be good). */
const RETRY_MS = 10_000;

/** Where a deployment's Google credentials come from: plain data, it travels in the Target. */
export interface GoogleCredentialSpec {
  /** The service account (or authorized user) JSON as text; absent: Application Default Credentials. */
  json?: string;
  /** Identity of the credential, for the per-thread cache (a hash: never the key itself). */
  key: string;
}

/**
 * vertex_credentials as LiteLLM takes it: the JSON itself (string or mapping), or a path to a file
 * holding it; absent → ADC. Read at config load. Throws with a message that shows no secret.
 */
export function credentialSpec(value: unknown): GoogleCredentialSpec {
  if (value === undefined || value === null || value === '') return { key: 'adc' };
  let json: string;
  if (typeof value === 'object') json = JSON.stringify(value);
  else if (typeof value === 'string' && value.trimStart().startsWith('{')) json = value;
  else if (typeof value === 'string') {
    try {
      json = readFileSync(value, 'utf8');
    } catch (e) {
      throw new Error(`vertex_credentials: cannot read the file ${value} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else throw new Error('vertex_credentials: expected a file path or the service account JSON');
  try {
    const parsed = JSON.parse(json) as Record<string, unknown>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.type !== 'string') throw new Error('no type');
  } catch {
    throw new Error('vertex_credentials: not a Google credentials JSON (expected an object with "type", e.g. "service_account")');
  }
  return { json, key: `json:${createHash('sha256').update(json).digest('hex')}` };
}

/** The project a service account belongs to (LiteLLM's fallback when vertex_project is unset). */
export function credentialProject(spec: GoogleCredentialSpec): string | undefined {
  if (!spec.json) return undefined;
  const p = (JSON.parse(spec.json) as { project_id?: unknown }).project_id;
  return typeof p === 'string' && p ? p : undefined;
}

interface Token {
  value: string;
  expiresAt: number;
}

export class TokenSource {
  private token: Token | null = null;
  private pending: Promise<string> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private client: Promise<{ getAccessToken(): Promise<{ token?: string | null }>; credentials: { expiry_date?: number | null } }> | null = null;
  /** Tokens this source obtained (tests count refreshes by the fake's count instead). */
  fetches = 0;

  constructor(private readonly spec: GoogleCredentialSpec) {}

  /** A valid token now, or a promise of one when there is none. */
  get(now = Date.now()): string | Promise<string> {
    const t = this.token;
    if (t && t.expiresAt > now) return t.value;
    return (this.pending ??= this.fetch());
  }

  private authClient() {
    return (this.client ??= (async () => {
      // Loaded on first use: workers without Vertex deployments never load the library.
      const { GoogleAuth } = await import('google-auth-library');
      const opts: Record<string, unknown> = { scopes: [CLOUD_PLATFORM_SCOPE] };
      let tokenUri: string | undefined;
      if (this.spec.json) {
        const creds = JSON.parse(this.spec.json) as Record<string, unknown>;
        opts.credentials = creds;
        if (typeof creds.token_uri === 'string' && creds.token_uri !== DEFAULT_TOKEN_URL) tokenUri = creds.token_uri;
      }
      const client = await new GoogleAuth(opts).getClient();
      if (tokenUri) {
        // The client's own transport (the one its token requests go through) sends them to token_uri.
        const to = new URL(tokenUri);
        client.transporter.interceptors.request.add({
          resolved: async (config) => {
            if (String(config.url) === DEFAULT_TOKEN_URL) config.url = to;
            return config;
          },
        });
      }
      return client as unknown as { getAccessToken(): Promise<{ token?: string | null }>; credentials: { expiry_date?: number | null } };
    })());
  }

  private async fetch(): Promise<string> {
    try {
      const client = await this.authClient();
      // Forget what the client cached, so the token is a new one (a refresh, not a cache read).
      client.credentials.expiry_date = 1;
      const r = await client.getAccessToken();
      if (!r.token) throw new Error('the token endpoint returned no access_token');
      const now = Date.now();
      const expiresAt = typeof client.credentials.expiry_date === 'number' && client.credentials.expiry_date > now ? client.credentials.expiry_date : now + ASSUMED_LIFETIME_MS;
      this.token = { value: r.token, expiresAt };
      this.fetches++;
      const lifetime = expiresAt - now;
      this.schedule(Math.max(lifetime - REFRESH_MARGIN_MS, lifetime / 2));
      return r.token;
    } catch (e) {
      // A token that is still valid keeps serving; the next refresh is tried soon.
      if (this.token && this.token.expiresAt > Date.now()) this.schedule(RETRY_MS);
      throw new Error(`could not get a Google access token: ${(e as Error).message}`);
    } finally {
      this.pending = null;
    }
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.pending) this.pending = this.fetch();
      this.pending.catch(() => {});
    }, ms);
    this.timer.unref();
  }
}

/** Per thread: one token source per credential, shared by every deployment that uses it. */
const sources = new Map<string, TokenSource>();

export function tokenSource(spec: GoogleCredentialSpec): TokenSource {
  let s = sources.get(spec.key);
  if (!s) sources.set(spec.key, (s = new TokenSource(spec)));
  return s;
}
