// Who may call which management route, by LiteLLM's roles (litellm/proxy/auth/route_checks.py,
// LiteLLMRoutes in proxy/_types.py). This is the route-level gate only; what a non-admin caller
// may see or change on a route it passes is decided by the handlers, through scope.ts.
import type { Caller } from './types';
import { AdminError } from './errors';

/** The roles the management API distinguishes. `none`: a key with no user, or a user whose role is
 *  none of these (LiteLLM's `team`, `customer`, `org_admin` without an organization check). */
export type Role = 'proxy_admin' | 'proxy_admin_viewer' | 'internal_user' | 'internal_user_viewer' | 'none';

/**
 * admin: proxy admins only.
 * read: also proxy_admin_viewer (reads of everything).
 * own-read: also internal_user and internal_user_viewer; the handler limits them to their own rows
 *   and those of the teams they admin.
 * own-write: also internal_user; the handler lets it change only its own keys and its teams' keys.
 * team-admin: also internal_user; the handler lets it act only on a team it is an admin of.
 * self: any authenticated caller; the handler limits it to the key it called with (and, for users,
 *   as own-read).
 */
export type Access = 'admin' | 'read' | 'own-read' | 'own-write' | 'team-admin' | 'self';

export function roleOf(c: Caller): Role {
  if (c.open || c.isMasterKey) return 'proxy_admin';
  switch (c.userRole) {
    case 'proxy_admin':
    case 'proxy_admin_viewer':
    case 'internal_user':
    case 'internal_user_viewer':
      return c.userRole;
    default:
      return 'none';
  }
}

/** Roles that read everything (no filter on lists). */
export const seesAll = (c: Caller): boolean => {
  const r = roleOf(c);
  return r === 'proxy_admin' || r === 'proxy_admin_viewer';
};

const ALLOWED: Record<Access, readonly Role[]> = {
  admin: ['proxy_admin'],
  read: ['proxy_admin', 'proxy_admin_viewer'],
  'own-read': ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'],
  'own-write': ['proxy_admin', 'internal_user'],
  'team-admin': ['proxy_admin', 'internal_user'],
  self: ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'none'],
};

/** `_mask_user_id`: the first 6 and last 2 characters of a user id, the rest starred. */
export function maskUserId(id: string | null): string {
  if (!id || id.length <= 4) return '***';
  if (id.length <= 8) return '*'.repeat(id.length);
  return `${id.slice(0, 6)}${'*'.repeat(id.length - 8)}${id.slice(-2)}`;
}

/** A 403 in LiteLLM's words for a caller whose role does not reach the route. */
export function routeRefused(c: Caller, path: string): AdminError {
  const role = roleOf(c);
  if (role === 'proxy_admin_viewer') return new AdminError(403, `user not allowed to access this route, role= ${role}. Trying to access: ${path}`);
  return new AdminError(
    403,
    `Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${path}. Your role=${c.userRole ?? 'unknown'}. Your user_id=${maskUserId(c.userId)}`,
  );
}

/** Throws 401 for a caller with no credential, 403 for a role the route does not admit. */
export function authorize(c: Caller, access: Access, path: string): void {
  if (!c.open && !c.isMasterKey && !c.keyHash && !c.userId) throw new AdminError(401, 'Authentication Error, No api key passed in.');
  if (!ALLOWED[access].includes(roleOf(c))) throw routeRefused(c, path);
}
