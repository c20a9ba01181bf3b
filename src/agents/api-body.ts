// The JSON object an agents-API call sends (runs, sessions, notes, secrets): an empty body is {},
// anything else that is not a JSON object is a 400 saying so.
import type { AgentCall } from '../gateway/agent-relay';
import { AgentApiError } from './api-error';

export function parseJson(call: AgentCall): Record<string, unknown> {
  if (!call.body || call.body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(call.body).toString('utf8'));
  } catch {
    throw new AgentApiError(400, 'the body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new AgentApiError(400, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
