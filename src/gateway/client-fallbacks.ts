// Routing parameters a client may put in its body, as LiteLLM reads them: `fallbacks` (model
// names tried in order once the requested group failed; they replace the configured chain) and
// `disable_fallbacks` (no fallback at all). They are taken out of the body before it goes
// upstream, since providers refuse parameters they do not know. Rare, so this path may parse.
import { GatewayError } from './errors';
import { ROUTING_PARAMS, scanBody, takeMembers, type BodyScan, type RecordMessages } from './body-scan';

export interface RoutingParams {
  body: Buffer;
  scan: BodyScan;
  /** Client fallbacks, or null when the client sent none. */
  fallbacks: string[] | null;
  disableFallbacks: boolean;
}

/** A `fallbacks` entry: a model name, or LiteLLM's `{"model": name, …}` form (only the model is used). */
function fallbackName(v: unknown, i: number): string {
  if (typeof v === 'string' && v) return v;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { model?: unknown }).model === 'string') return (v as { model: string }).model;
  throw new GatewayError(400, `fallbacks[${i}]: expected a model name or {"model": "<name>"}`, 'bad_request_error', 'fallbacks');
}

/** The body without its routing parameters, and its scan (`messages`: as scanBody's). */
export function takeRoutingParams(body: Buffer, messages: RecordMessages = false): RoutingParams {
  let rest: Buffer;
  let taken: Record<string, unknown>;
  try {
    ({ body: rest, taken } = takeMembers(body, ROUTING_PARAMS));
  } catch {
    // The scan checked the structure, not every literal inside nested values.
    throw new GatewayError(400, 'fallbacks: not valid JSON', 'bad_request_error', 'fallbacks');
  }
  const raw = taken.fallbacks;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) {
    throw new GatewayError(400, 'fallbacks: expected a list of model names, e.g. ["gpt-4o-mini"]', 'bad_request_error', 'fallbacks');
  }
  const d = taken.disable_fallbacks;
  if (d !== undefined && d !== null && typeof d !== 'boolean') {
    throw new GatewayError(400, 'disable_fallbacks: expected true or false', 'bad_request_error', 'disable_fallbacks');
  }
  return {
    body: rest,
    scan: scanBody(rest, messages),
    fallbacks: Array.isArray(raw) ? raw.map(fallbackName) : null,
    disableFallbacks: d === true,
  };
}
