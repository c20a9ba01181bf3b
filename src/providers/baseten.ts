// Baseten (`baseten/`), as LiteLLM routes it: a model named by a dedicated deployment's 8-character
// id goes to that deployment's own host; any other name to the Model APIs base
// (https://inference.baseten.co/v1, the table's default).
import type { Route } from './route';
import type { DeploymentParams } from './target';

export function basetenRoute(p: DeploymentParams): Route | null {
  if (!/^[a-zA-Z0-9]{8}$/.test(p.upstreamModel)) return null;
  return { origin: `https://model-${p.upstreamModel}.api.baseten.co`, path: '/environments/production/sync/v1/chat/completions' };
}
