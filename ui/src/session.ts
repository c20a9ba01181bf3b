// Who is logged in, and what the role lets the page offer. The server enforces every rule; the page
// only hides what would be refused.
import { api, setCsrfToken } from './api';

export type Role = 'proxy_admin' | 'proxy_admin_viewer' | 'internal_user' | 'internal_user_viewer' | string;

export interface Session {
  user_id: string | null;
  user_role: Role;
  team_ids: string[];
  csrf_token: string;
  expires_at: string | null;
}

export type Credentials = { username: string; password: string } | { key: string };

function take(s: Session): Session {
  setCsrfToken(s.csrf_token);
  return s;
}

export const login = async (c: Credentials): Promise<Session> => take(await api<Session>('/ui/login', { body: c }));
export const current = async (): Promise<Session> => take(await api<Session>('/ui/session'));
export const logout = (): Promise<unknown> => api('/ui/logout', { method: 'POST', body: {} });

/** Sees every team, key and log row. */
export const seesAll = (s: Session): boolean => s.user_role === 'proxy_admin' || s.user_role === 'proxy_admin_viewer';
/** May change anything. */
export const isAdmin = (s: Session): boolean => s.user_role === 'proxy_admin';
/** May change at least its own keys (viewers change nothing). */
export const canWrite = (s: Session): boolean => s.user_role === 'proxy_admin' || s.user_role === 'internal_user';
