// Who may call a provider route that is not an LLM call (files, batches, fine-tuning, models…)
// through the pass-through: it runs on the operator's provider credentials, so only the master
// key, proxy admins, and (with no master key) everyone, as LiteLLM allows by default.
import type { EntityTable } from '../state/entity-table';
import { GatewayError } from './errors';
import type { Identity } from './identity';
import type { PassThroughRoute } from './pass-through-route';
import { checkKeyStatus } from './policy';

export function checkPassThroughCaller(who: Identity, route: PassThroughRoute, entities: EntityTable | null): void {
  if (who.kind !== 'key') return;
  if (entities) checkKeyStatus(entities, who.profile, Date.now());
  if (who.profile.userRole === 'proxy_admin') return;
  throw new GatewayError(
    403,
    `This key may not call /${route.provider}${route.rest} through the pass-through: provider routes other than LLM calls are for the master key and proxy admins.`,
    'permission_denied',
  );
}
