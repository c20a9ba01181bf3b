// A request with no key of its own but the page's session cookie: the control thread says whose
// session it is (and checks the CSRF token of a state-changing call); the caller is then that
// identity exactly as a key header would have made it. Only cookie-only requests come here: a
// request with a key header never pays this round trip.
import { GatewayError } from '../gateway/errors';
import { MASTER, OPEN, type Identifier, type Identity } from '../gateway/identity';
import type { ControlRpc } from '../gateway/gateway-core';
import type { SessionActor } from './session-table';

export const SESSION_EXPIRED = 'Authentication Error, the session expired or is unknown: log in again at /ui.';
export const CSRF_REFUSED = 'A request authenticated by the session cookie must send the x-csrf-token header with the session\'s csrf_token (from /ui/login or /ui/session).';

export async function sessionIdentity(token: string, method: string, csrf: string | null, rpc: ControlRpc, identifier: Identifier): Promise<Identity> {
  const r = await rpc('ui.auth', { token, method, csrf });
  if (r.status === 403) throw new GatewayError(403, CSRF_REFUSED, 'auth_error');
  if (r.status !== 200) throw new GatewayError(401, SESSION_EXPIRED, 'auth_error');
  const actor = (r.body as { actor: SessionActor }).actor;
  if (actor.kind === 'master') return MASTER;
  if (actor.kind === 'open') return OPEN;
  const who = await identifier.byHash(Buffer.from(actor.keyHash, 'hex'));
  if (!who) throw new GatewayError(401, SESSION_EXPIRED, 'auth_error');
  return who;
}
