// What a caller who is not a proxy admin may see and change, past the route gate of roles.ts:
// LiteLLM's rules for internal users and team admins (key_management_endpoints.py,
// team_member_permission_checks.py, common_utils._is_user_team_admin). A team admin is a member
// with role `admin` in the team's members_with_roles. Every check reads the rows it needs in the
// handler's own transaction, so a refused change rolls back with nothing written.
import type { Call } from './common';
import { type Db, type Row, q, q1 } from './db';
import { AdminError, badRequest } from './errors';
import { roleOf, seesAll } from './roles';

export const forbidden = (message: string, param: string | null = null) => new AdminError(403, message, param);

/** LiteLLM's DEFAULT_TEAM_MEMBER_PERMISSIONS: what a team's plain members may do with its keys
 *  when the team sets no team_member_permissions. */
const DEFAULT_MEMBER_PERMISSIONS = ['/key/info', '/key/health'];

/** SQL condition on a LiteLLM_TeamTable row: the user (the query parameter named) is a member, in any role. */
export const memberOfTeamSql = (userParam: string) => `members_with_roles @> jsonb_build_array(jsonb_build_object('user_id', ${userParam}::text))`;
const adminOfTeamSql = (userParam: string) => `members_with_roles @> jsonb_build_array(jsonb_build_object('user_id', ${userParam}::text, 'role', 'admin'))`;

/** Teams the user is an admin of. */
export async function adminTeamIds(db: Db, userId: string): Promise<string[]> {
  const rows = await q<{ team_id: string }>(db, `SELECT team_id FROM "LiteLLM_TeamTable" WHERE ${adminOfTeamSql('$1')} ORDER BY team_id`, [userId]);
  return rows.map((r) => r.team_id);
}

/**
 * What a caller that does not see everything may read: the rows of its own user, and those of the
 * teams it admins. Null for proxy admins and admin viewers (no filter).
 */
export interface View {
  userId: string | null;
  adminTeams: string[];
}

export async function viewOf(call: Call, db: Db): Promise<View | null> {
  if (seesAll(call.req.caller)) return null;
  const userId = call.req.caller.userId;
  return { userId, adminTeams: userId ? await adminTeamIds(db, userId) : [] };
}

interface TeamAccess {
  /** The caller's role in the team's members_with_roles, or null when it is no member. */
  role: string | null;
  /** What the team lets its plain members do (routes). */
  permissions: string[];
}

/** The caller's standing in a team; null when the team does not exist. */
async function teamAccess(db: Db, teamId: string, userId: string | null): Promise<TeamAccess | null> {
  const t = await q1<{ members_with_roles: unknown; team_member_permissions: string[] | null }>(
    db,
    `SELECT members_with_roles, team_member_permissions FROM "LiteLLM_TeamTable" WHERE team_id = $1`,
    [teamId],
  );
  if (!t) return null;
  return { role: memberRole(t, userId), permissions: t.team_member_permissions?.length ? t.team_member_permissions : DEFAULT_MEMBER_PERMISSIONS };
}

/** The user's role in a team row (`admin`, `user`), or null when it is no member. */
export function memberRole(team: Row, userId: string | null): string | null {
  if (!userId || !Array.isArray(team.members_with_roles)) return null;
  for (const m of team.members_with_roles as Array<{ user_id?: unknown; role?: unknown }>)
    if (m && m.user_id === userId) return typeof m.role === 'string' ? m.role : 'user';
  return null;
}

const isProxyAdmin = (call: Call) => roleOf(call.req.caller) === 'proxy_admin';

/** member_add / member_delete / member_update and the like: a proxy admin, or an admin of `team`. */
export function assertTeamAdmin(call: Call, team: Row, route: string): void {
  if (isProxyAdmin(call)) return;
  const c = call.req.caller;
  if (memberRole(team, c.userId) === 'admin') return;
  throw forbidden(`Call not allowed. User not proxy admin OR team admin. route=${route}, team_id=${String(team.team_id)}`, 'team_id');
}

/** Reads of one team (/team/info): proxy admins and viewers, and the team's members. */
export function assertTeamVisible(call: Call, team: Row): void {
  if (seesAll(call.req.caller)) return;
  if (memberRole(team, call.req.caller.userId) !== null) return;
  throw forbidden(`User=${call.req.caller.userId ?? 'unknown'} not authorized to access this team=${String(team.team_id)}`, 'team_id');
}

/** LiteLLM: only a proxy admin may open provider pass-through routes on a key. */
function assertNoPassThroughGrant(b: { allowed_passthrough_routes?: unknown; metadata?: unknown }): void {
  const meta = b.metadata && typeof b.metadata === 'object' ? (b.metadata as Record<string, unknown>) : null;
  if ((Array.isArray(b.allowed_passthrough_routes) && b.allowed_passthrough_routes.length > 0) || (meta && meta.allowed_passthrough_routes))
    throw forbidden('Only proxy admins can set `allowed_passthrough_routes` on a key.', 'allowed_passthrough_routes');
}

/** A non-admin may put a key in a team it admins, or one whose members may call `route`. */
async function assertMayUseTeam(db: Db, teamId: string, userId: string, route: string): Promise<void> {
  const t = await teamAccess(db, teamId, userId);
  if (!t) throw badRequest(`Team id = ${teamId} does not exist. Create the team first.`, 'team_id');
  if (t.role === null) throw forbidden(`User=${userId} not assigned to team=${teamId}`, 'team_id');
  if (t.role !== 'admin' && !t.permissions.includes(route))
    throw forbidden(
      `Team member does not have permissions for endpoint: ${route}. You only have access to the following endpoints: ${JSON.stringify(t.permissions)} for team ${teamId}. To create keys for this team, please ask your proxy admin to check the team member permission settings and update the settings to allow team member users to create keys.`,
      'team_id',
    );
}

export interface KeyOwner {
  user_id?: string | null;
  team_id?: string | null;
  metadata?: unknown;
  allowed_passthrough_routes?: unknown;
}

/**
 * /key/generate and /key/service-account/generate by a non-admin: the key is the caller's own
 * (`user_id` absent is set to the caller; another user's id is refused), or a service account of a
 * team it may create keys in. Returns the user_id the key gets.
 */
export async function ownerOfNewKey(call: Call, db: Db, b: KeyOwner, route: '/key/generate' | '/key/service-account/generate'): Promise<string | null | undefined> {
  if (isProxyAdmin(call)) return b.user_id;
  const userId = call.req.caller.userId;
  if (!userId) throw forbidden('This caller belongs to no user, so it cannot own keys. Only a proxy admin can create keys for no user.', 'user_id');
  if (route !== '/key/service-account/generate' && b.user_id != null && b.user_id !== userId)
    throw forbidden(`User can only create keys for themselves. Got user_id=${b.user_id}, Your ID=${userId}`, 'user_id');
  assertNoPassThroughGrant(b);
  if (b.team_id) await assertMayUseTeam(db, b.team_id, userId, route);
  return route === '/key/service-account/generate' ? null : userId;
}

export type KeyAction = '/key/update' | '/key/delete' | '/key/regenerate' | '/key/block' | '/key/unblock';

/**
 * A non-admin changes a key only when it is the caller's own personal key, one of a team the
 * caller admins, or its own key in a team whose member permissions grant the route. Unblocking
 * (LiteLLM lets any owner) is left to team admins and proxy admins: a block an admin set holds.
 */
export async function assertMayChangeKey(call: Call, db: Db, row: Row, action: KeyAction): Promise<void> {
  if (isProxyAdmin(call)) return;
  const userId = call.req.caller.userId;
  const teamId = (row.team_id as string | null) ?? null;
  const team = teamId && userId ? await teamAccess(db, teamId, userId) : null;
  if (team?.role === 'admin') return;
  const own = !!userId && row.user_id === userId;
  if (own && action !== '/key/unblock' && (teamId === null || team?.permissions.includes(action))) return;
  throw forbidden(
    `User=${userId ?? 'unknown'} is not allowed to call ${action} on key=${String(row.key_name ?? row.key_alias ?? '')}. Only the key's owner, an admin of its team or a proxy admin can.`,
    'key',
  );
}

/** The fields of /key/update and /key/regenerate a non-admin must not use to move a key or widen it. */
export async function assertMayReassignKey(call: Call, db: Db, row: Row, b: KeyOwner & { blocked?: boolean | null }): Promise<void> {
  if (isProxyAdmin(call)) return;
  const userId = call.req.caller.userId!;
  assertNoPassThroughGrant(b);
  if (b.user_id !== undefined && b.user_id !== row.user_id && b.user_id !== userId)
    throw forbidden(`User can only create keys for themselves. Got user_id=${String(b.user_id)}, Your ID=${userId}`, 'user_id');
  if (b.team_id !== undefined && b.team_id !== row.team_id) {
    // Leaving a team is the team admins' call; joining one needs the right to make keys there.
    if (row.team_id && (await teamAccess(db, row.team_id as string, userId))?.role !== 'admin')
      throw forbidden(`Only an admin of team=${String(row.team_id)} can move its key out of it.`, 'team_id');
    if (b.team_id) await assertMayUseTeam(db, b.team_id, userId, '/key/generate');
  }
  if (b.blocked === false && row.blocked === true) await assertMayChangeKey(call, db, row, '/key/unblock');
}

/** Whether the caller may read this key (/key/info, /v2/key/info). */
export function mayReadKey(call: Call, row: Row, view: View | null): boolean {
  if (!view) return true;
  const c = call.req.caller;
  if (c.keyHash && row.token === c.keyHash) return true;
  const role = roleOf(c);
  if (role !== 'internal_user' && role !== 'internal_user_viewer') return false;
  if (view.userId && row.user_id === view.userId) return true;
  return typeof row.team_id === 'string' && view.adminTeams.includes(row.team_id);
}
