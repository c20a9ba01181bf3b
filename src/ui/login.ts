// Who a login is, from what the page sent (the contract of issue 14, LiteLLM's rules):
//   {username, password}: UI_USERNAME / UI_PASSWORD, or the master key as the password (username
//     `admin`, or anything when UI_USERNAME is unset) → proxy_admin; else a LiteLLM_UserTable user
//     by user_id or user_email whose stored password matches (password.ts) → that user's role, and,
//     as LiteLLM does, a key minted for the session so its calls are the user's (blocked at logout).
//   {key}: the master key → proxy_admin; a virtual key (not blocked, not expired) → its user's role.
// Every comparison with a secret is made on digests of equal length, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { Session } from './session-table';
import { verifyLiteLLMPassword } from './password';

/** LiteLLM's LITELLM_PROXY_ADMIN_NAME: the user id of the master key's identity. */
export const PROXY_ADMIN_ID = 'default_user_id';

export type LoginBody = { username: string; password: string } | { key: string };

export interface LoginDeps {
  masterKey: string | null;
  env: NodeJS.ProcessEnv;
  /** The database, when there is one (users and keys live there). */
  db: pg.Pool | null;
  /** Brings a key into the shared state, so workers know it at once (Governance.lookupKey). */
  loadKey(hash: string): Promise<boolean>;
  /** Mints a key for a user's session (Governance.mintRunKeys); null without a database. */
  mintKey: ((body: Record<string, unknown>) => Promise<{ token: string }>) | null;
}

export type LoginIdentity = Omit<Session, 'csrf' | 'expiresAt'>;

/** Body shape check: null when it is neither form. */
export function loginBody(body: unknown): LoginBody | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.key === 'string') return { key: b.key };
  if (typeof b.username === 'string' && typeof b.password === 'string') return { username: b.username, password: b.password };
  return null;
}

function sameSecret(given: string, secret: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const ADMIN = (): LoginIdentity => ({ actor: { kind: 'master' }, userId: PROXY_ADMIN_ID, userRole: 'proxy_admin', teamIds: [], mintedKey: null });

/** The identity these credentials log in as, or null when they are wrong (whichever part). */
export async function identify(body: LoginBody, deps: LoginDeps, sessionSeconds: number): Promise<LoginIdentity | null> {
  // No master key: Weir lets every request through (as LiteLLM does); the page does too.
  if (!deps.masterKey) return { actor: { kind: 'open' }, userId: PROXY_ADMIN_ID, userRole: 'proxy_admin', teamIds: [], mintedKey: null };
  if ('key' in body) {
    if (sameSecret(body.key, deps.masterKey)) return ADMIN();
    return keyLogin(body.key, deps);
  }
  const uiUser = deps.env.UI_USERNAME;
  const uiPassword = deps.env.UI_PASSWORD;
  const nameMatches = sameSecret(body.username, uiUser ?? 'admin');
  if (uiPassword && nameMatches && sameSecret(body.password, uiPassword)) return ADMIN();
  if ((uiUser === undefined || nameMatches || body.username === 'admin') && sameSecret(body.password, deps.masterKey)) return ADMIN();
  return userLogin(body.username, body.password, deps, sessionSeconds);
}

async function userLogin(name: string, password: string, deps: LoginDeps, sessionSeconds: number): Promise<LoginIdentity | null> {
  if (!deps.db || !deps.mintKey || !name) return null;
  const r = await deps.db.query<{ user_id: string; user_role: string | null; password: string | null; teams: string[] | null }>(
    `SELECT user_id, user_role, password, teams FROM "LiteLLM_UserTable" WHERE user_id = $1 OR lower(user_email) = lower($1) ORDER BY (user_id = $1) DESC LIMIT 1`,
    [name],
  );
  const user = r.rows[0];
  if (!user || !(await verifyLiteLLMPassword(password, user.password))) return null;
  const minted = await deps.mintKey({ user_id: user.user_id, duration: `${sessionSeconds}s`, metadata: { weir_ui_session: true } });
  // LiteLLM's rows without a role are viewers (login_utils: INTERNAL_USER_VIEW_ONLY).
  return { actor: { kind: 'key', keyHash: minted.token }, userId: user.user_id, userRole: user.user_role ?? 'internal_user_viewer', teamIds: user.teams ?? [], mintedKey: minted.token };
}

async function keyLogin(key: string, deps: LoginDeps): Promise<LoginIdentity | null> {
  if (!deps.db || !key.startsWith('sk-')) return null;
  const hash = sha256Hex(key);
  const r = await deps.db.query<{ user_id: string | null; team_id: string | null; blocked: boolean | null; expires: Date | null; user_role: string | null; teams: string[] | null }>(
    `SELECT k.user_id, k.team_id, k.blocked, k.expires, u.user_role, u.teams
       FROM "LiteLLM_VerificationToken" k LEFT JOIN "LiteLLM_UserTable" u ON u.user_id = k.user_id
      WHERE k.token = $1`,
    [hash],
  );
  const row = r.rows[0];
  if (!row || row.blocked === true || (row.expires && row.expires.getTime() <= Date.now())) return null;
  if (!(await deps.loadKey(hash))) return null;
  const teamIds = [...new Set([...(row.team_id ? [row.team_id] : []), ...(row.teams ?? [])])];
  return { actor: { kind: 'key', keyHash: hash }, userId: row.user_id ?? '', userRole: row.user_role ?? 'internal_user', teamIds, mintedKey: null };
}
