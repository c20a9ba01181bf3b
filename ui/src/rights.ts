// What the page offers a session on a record, mirroring LiteLLM's roles (the server decides; the page
// only hides what it would refuse): proxy admins change everything, viewers nothing, an internal
// user its own keys, a team admin (role "admin" in members_with_roles) its team's keys and members.
import { isAdmin, type Session } from './session';

interface Member {
  user_id?: string | null;
  role?: string | null;
}

/** Whether the session's user is an admin member of a team (its members_with_roles). */
export function isTeamAdmin(s: Session, team: { members_with_roles?: unknown } | null | undefined): boolean {
  if (!s.user_id || !team || !Array.isArray(team.members_with_roles)) return false;
  return (team.members_with_roles as Member[]).some((m) => m.user_id === s.user_id && m.role === 'admin');
}

/** May create keys (its own; a team admin its team's, offered on the team's page). */
export const mayCreateKey = (s: Session): boolean => isAdmin(s) || s.user_role === 'internal_user';

/** May change, block, regenerate or delete this key. */
export function mayChangeKey(s: Session, key: { user_id?: unknown }, teamAdmin = false): boolean {
  if (isAdmin(s) || teamAdmin) return true;
  return s.user_role === 'internal_user' && !!s.user_id && key.user_id === s.user_id;
}

/** May change this team's members (and keys). */
export const mayManageTeam = (s: Session, team: { members_with_roles?: unknown } | null | undefined): boolean => isAdmin(s) || isTeamAdmin(s, team);
