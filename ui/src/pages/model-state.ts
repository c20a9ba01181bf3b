// The deployments' state (cooldown, requests in flight, rps) from the live stream /ui/live, which
// only proxy admins and viewers may open; other sessions see no state column.
import { useEffect, useState } from 'preact/hooks';

export interface DeploymentState {
  model: string;
  deployment: string;
  rps?: number;
  cooldown?: boolean;
  in_flight?: number;
}

/** The latest tick's deployments by model group and by deployment name (null until one came). */
export function useDeploymentStates(enabled: boolean): DeploymentState[] | null {
  const [states, setStates] = useState<DeploymentState[] | null>(null);
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    const es = new EventSource('/ui/live');
    es.addEventListener('tick', (e) => {
      try {
        const t = JSON.parse((e as MessageEvent<string>).data) as { deployments?: DeploymentState[] };
        if (Array.isArray(t.deployments)) setStates(t.deployments);
      } catch {
        /* a malformed tick: keep the last state */
      }
    });
    return () => es.close();
  }, [enabled]);
  return states;
}

/** The state of one deployment: matched by its id or provider model within its group. */
export function stateOf(states: DeploymentState[] | null, group: string, id: string | undefined, model: unknown): DeploymentState | undefined {
  if (!states) return undefined;
  return states.find((s) => s.model === group && (s.deployment === id || s.deployment === model)) ?? states.find((s) => s.model === group && states.filter((x) => x.model === group).length === 1);
}
