// What LiteLLM does with the OpenAI parameters a provider does not take (compat-table.ts): without
// drop_params it refuses the call (its UnsupportedParamsError, a 400 naming them); with it (in the
// config, or `"drop_params": true` in the request), or for the parameters of
// additional_drop_params, it leaves them out. Some it sends under another name
// (max_completion_tokens → max_tokens). Decided once per deployment at config load; applied to
// the upstream body of deployments that have any, by one walk of its top-level members, whose
// bytes are kept as they are.
import { GatewayError } from './errors';
import { topLevelMembers } from './body-scan';
import { scanSteps } from '../scan-steps';
import type { ParamSupport } from '../providers/target';

export interface ParamRules {
  /** Refused: the call is answered 400 (a body the gateway translated has them left out instead). */
  refuse: readonly string[];
  /** Left out. */
  drop: readonly string[];
  /** Sent under another name: [client name, upstream name]. */
  renames: readonly (readonly [string, string])[];
}

/** The rules of a deployment, or null when it has none (the body then goes as it is). */
export function paramRules(support: ParamSupport | undefined, dropParams: boolean, additionalDrop: readonly string[]): ParamRules | null {
  const unsupported = support?.unsupported ?? [];
  const renames = support?.renames ?? [];
  const drop = [...new Set([...(dropParams ? unsupported : []), ...additionalDrop])];
  const refuse = dropParams ? [] : unsupported.filter((p) => !drop.includes(p));
  if (!refuse.length && !drop.length && !renames.length) return null;
  return { refuse, drop, renames };
}

/**
 * The body with the rules applied. `translated`: the gateway wrote this body (a translation), so
 * a refused parameter is the gateway's own and is left out rather than refused. Throws a 400
 * GatewayError naming the parameters refused. Only for bodies the body scan accepted.
 */
export function applyParamRules(b: Buffer, rules: ParamRules, provider: string, model: string, translated: boolean): Buffer {
  const members = topLevelMembers(b);
  // A client may ask for drop_params itself (`"drop_params": true`, LiteLLM's per-request form); the member is LiteLLM's, never the provider's.
  const own = members.find((m) => m.key === 'drop_params');
  const requestDrop = own !== undefined && b.toString('latin1', own.valueStart, own.valueEnd) === 'true';
  const refused = translated || requestDrop ? [] : members.filter((m) => rules.refuse.includes(m.key)).map((m) => m.key);
  if (refused.length) {
    throw new GatewayError(
      400,
      `litellm.UnsupportedParamsError: ${provider} does not support parameters: ${JSON.stringify(refused)}, for model=${model}. To drop these, set \`litellm_settings: drop_params: true\` in the config (or \`drop_params: true\` in the deployment's litellm_params).`,
      'bad_request_error',
      refused[0]!,
    );
  }
  const dropped = new Set<string>(rules.drop);
  if (translated || requestDrop) for (const p of rules.refuse) dropped.add(p);
  if (own) dropped.add('drop_params');
  const renamed = new Map<string, string>();
  for (const [from, to] of rules.renames) {
    if (members.some((m) => m.key === from)) {
      renamed.set(from, to);
      // The client's own spelling of the upstream name gives way to the renamed one.
      dropped.add(to);
    }
  }
  if (!members.some((m) => dropped.has(m.key) || renamed.has(m.key))) return b;
  const parts: Buffer[] = [Buffer.from('{')];
  let first = true;
  for (const m of members) {
    if (dropped.has(m.key) && !renamed.has(m.key)) continue;
    if (!first) parts.push(Buffer.from(','));
    first = false;
    const to = renamed.get(m.key);
    if (to) parts.push(Buffer.from(`${JSON.stringify(to)}:`), b.subarray(m.valueStart, m.valueEnd));
    else parts.push(b.subarray(m.start, m.valueEnd));
  }
  parts.push(Buffer.from('}'));
  scanSteps.n += b.length;
  return Buffer.concat(parts);
}
