// Who may call a provider route that is not an LLM call (files, batches, fine-tuning, models…)
// through the pass-through: it runs on the operator's provider credentials, so only the master
// key, proxy admins, keys whose allowed_passthrough_routes grant the path, and (with no master
// key) everyone.
import type { EntityTable } from '../state/entity-table';
import { GatewayError } from './errors';
import type { Identity } from './identity';
import type { PassThroughRoute } from './pass-through-route';
import { checkKeyStatus } from './policy';
import { passThroughGranted } from './route-access';

export function checkPassThroughCaller(who: Identity, route: PassThroughRoute, entities: EntityTable | null): void {
  if (who.kind !== 'key') return;
  if (entities) checkKeyStatus(entities, who.profile, Date.now());
  const path = `/${route.provider}${route.rest}`;
  if (who.profile.userRole === 'proxy_admin' || passThroughGranted(who.profile, path)) return;
  throw new GatewayError(
    403,
    `This key may not call ${path} through the pass-through: provider routes other than LLM calls are for the master key, proxy admins and keys whose allowed_passthrough_routes grant them.`,
    'permission_denied',
  );
}
