// A deployment's fields for /model/new and /model/update (LiteLLM's shape: model_name,
// litellm_params, model_info). The form is flat; these turn it into the nested body and back. The
// API key is write-only: never read back, sent only when typed.
import type { FieldDef } from '../components/form';

export interface Deployment {
  model_name: string;
  litellm_params: Record<string, unknown>;
  model_info: Record<string, unknown> & { id?: string; db_model?: boolean };
}

const PARAMS = ['model', 'api_base', 'api_key', 'rpm', 'tpm', 'input_cost_per_token', 'output_cost_per_token'] as const;

export const MODEL_FIELDS: FieldDef[] = [
  { name: 'model_name', label: 'Model group (the name clients call)' },
  { name: 'model', label: 'Provider model (e.g. openai/gpt-4o)' },
  { name: 'api_base', label: 'API base' },
  { name: 'api_key', label: 'API key (write-only)', kind: 'secret' },
  { name: 'rpm', label: 'Requests / minute', kind: 'integer' },
  { name: 'tpm', label: 'Tokens / minute', kind: 'integer' },
  { name: 'input_cost_per_token', label: 'Input $ / token', kind: 'number' },
  { name: 'output_cost_per_token', label: 'Output $ / token', kind: 'number' },
  { name: 'model_info', label: 'Model info (JSON object)', kind: 'json' },
];

/** The form's starting values from a deployment (its key is never shown). */
export function formValuesOf(d: Deployment): Record<string, unknown> {
  const { id: _id, db_model: _db, litellm_provider: _p, ...info } = d.model_info;
  return { ...d.litellm_params, api_key: null, model_name: d.model_name, model_info: info };
}

/** The nested body from the flat one bodyOf made; `id` for an update. */
export function modelBody(flat: Record<string, unknown>, id?: string): Record<string, unknown> {
  const litellm_params: Record<string, unknown> = {};
  for (const k of PARAMS) if (k in flat) litellm_params[k] = flat[k];
  const info = (flat.model_info as Record<string, unknown> | null | undefined) ?? {};
  const body: Record<string, unknown> = {};
  if ('model_name' in flat) body.model_name = flat.model_name;
  if (Object.keys(litellm_params).length) body.litellm_params = litellm_params;
  if (id || 'model_info' in flat) body.model_info = id ? { ...info, id } : info;
  return body;
}
