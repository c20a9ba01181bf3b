// Management routes (/key/*, /team/*, …) are executed on the control thread, which owns the
// database; the worker authenticates the caller, parses the JSON body and relays the call.
import type { Exchange } from '../server/exchange';
import { GatewayError } from './errors';
import type { Identity } from './identity';

const PREFIXES = ['/key/', '/v2/key/', '/team/', '/v2/team/', '/user/', '/v2/user/', '/customer/', '/end_user/', '/budget/', '/organization/', '/spend/', '/global/spend'];

export function isAdminPath(path: string): boolean {
  for (const p of PREFIXES) if (path.startsWith(p)) return true;
  return false;
}

export interface AdminCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  changedBy: string | null;
  caller: { isMasterKey: boolean; keyHash: string | null; userRole: string | null; userId: string | null; open: boolean };
}

export function adminCall(ex: Exchange, id: Identity, body: Buffer | null): AdminCall {
  let parsed: unknown;
  if (body && body.length) {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new GatewayError(400, 'Request body is not valid JSON.', 'bad_request_error');
    }
  }
  return {
    method: ex.method,
    path: ex.path,
    query: Object.fromEntries(new URLSearchParams(ex.query)),
    body: parsed,
    changedBy: ex.headers['litellm-changed-by'] ?? null,
    caller: {
      isMasterKey: id.kind === 'master',
      keyHash: id.kind === 'key' ? id.profile.tokenHash : null,
      userRole: id.kind === 'key' ? id.profile.userRole : null,
      userId: id.kind === 'key' ? id.profile.userId : null,
      open: id.kind === 'open',
    },
  };
}
