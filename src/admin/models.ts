// /model/new, /model/update (and PATCH /model/{id}/update), /model/delete: LiteLLM's model
// management, on LiteLLM_ProxyModelTable when store_model_in_db is on. Rows are written as LiteLLM
// writes them (every string of litellm_params encrypted with the salt key, other values as they are),
// so LiteLLM and Weir read each other's. The config file's models stay read-only: editing or
// deleting one answers 400 saying so. The routing snapshot picks the change up through the table
// read that follows every change (control/db-models.ts); answers never carry a credential.
import { randomUUID } from 'node:crypto';
import { describeConfigError, loadDeployment } from '../config/load';
import { publicParams } from '../control/build-snapshot';
import { decryptParams } from '../control/db-models';
import { encryptAtRest } from '../db/at-rest-crypto';
import { isProvider, splitModel } from '../providers/registry';
import { type Call, mutate } from './common';
import { type Row, findRow, insertRow, q, updateRow } from './db';
import { AdminError, badRequest } from './errors';
import type { ModelSettings } from './types';

const TABLE = 'LiteLLM_ProxyModelTable';
type Obj = Record<string, unknown>;

function settingsOf(call: Call): ModelSettings & { saltKey: string } {
  const s = call.ctx.settings.models;
  if (!s?.storeInDb) throw badRequest("Models are stored in the database only with store_model_in_db: set general_settings.store_model_in_db: true (or STORE_MODEL_IN_DB='True' in the environment) to enable this feature.");
  if (!s.saltKey) throw badRequest('No key to encrypt model credentials with: set LITELLM_SALT_KEY (or a master key) to store models in the database.');
  return s as ModelSettings & { saltKey: string };
}

function objectField(v: unknown, name: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${name} must be a JSON object`, name);
  return v as Obj;
}

function bodyOf(call: Call): Obj {
  return objectField(call.req.body, 'body') ?? {};
}

/** A JSON column (LiteLLM may have written it as a JSON string). */
function stored(v: unknown): Obj {
  let x = v;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x);
    } catch {
      return {};
    }
  }
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : {};
}

function readOnly(id: string): AdminError {
  return badRequest(`Model ${id} is defined in the config file, which the API cannot change: edit the config file, or add the model with /model/new to manage it here.`, 'id');
}

/** Team models need LiteLLM Enterprise's per-team aliases; stored as is, they would be open to every key. */
function refuseTeam(info: Obj | undefined): void {
  if (info?.team_id !== undefined && info.team_id !== null) {
    throw badRequest('model_info.team_id: team-scoped models are not supported; add the model without team_id and give the team access through its models list.', 'model_info.team_id');
  }
}

/**
 * Refuses what could never be called: no model, a provider prefix nobody knows, values of the
 * wrong type. A provider LiteLLM knows and Weir does not call is accepted (it shows unavailable).
 */
function validate(s: ModelSettings, modelName: string, params: Obj, info: Obj): void {
  const model = params.model;
  if (typeof model !== 'string' || model.trim() === '') throw badRequest('litellm_params.model is required: "<provider>/<model>", e.g. "openai/gpt-4o"', 'litellm_params.model');
  if (!model.startsWith('os.environ/') && model !== '*') {
    const { provider } = splitModel(model, params.custom_llm_provider);
    if (!provider) throw badRequest(`litellm_params.model: cannot tell the provider of ${JSON.stringify(model)}: prefix it with one, e.g. "openai/${model}"`, 'litellm_params.model');
    if (!isProvider(provider)) throw badRequest(`litellm_params.model: unknown provider ${JSON.stringify(provider)} in ${JSON.stringify(model)}: use a LiteLLM provider prefix (openai/, anthropic/, azure/, bedrock/, vertex_ai/, gemini/, hosted_vllm/, …)`, 'litellm_params.model');
  }
  try {
    loadDeployment({ model_name: modelName, litellm_params: params, model_info: info }, s.env);
  } catch (e) {
    throw badRequest(describeConfigError(e).replace(/^config: /, '').replace(/model_list\[0\]\./g, ''));
  }
}

/** As LiteLLM's _add_model_to_db: every string encrypted, other values (numbers, header maps) as they are. */
function encryptParams(params: Obj, s: ModelSettings & { saltKey: string }): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? encryptAtRest(v, s.saltKey, s.algorithm) : v;
  }
  return out;
}

/** The row as LiteLLM answers it, with litellm_params in the clear but without credentials. */
function answer(row: Row, params: Obj): Obj {
  return {
    model_id: row.model_id,
    model_name: row.model_name,
    litellm_params: publicParams({ litellm_params: params as { model: string } }),
    model_info: { ...stored(row.model_info), id: row.model_id, db_model: true },
    created_at: row.created_at,
    created_by: row.created_by,
    updated_at: row.updated_at,
    updated_by: row.updated_by,
  };
}

function idOf(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || v.trim() === '') throw badRequest(`${name} must be a non-empty string`, name);
  return v;
}

/** POST /model/new {model_name, litellm_params, model_info}. */
export async function modelNew(call: Call): Promise<unknown> {
  const s = settingsOf(call);
  const body = bodyOf(call);
  const modelName = body.model_name;
  if (typeof modelName !== 'string' || modelName.trim() === '') throw badRequest('model_name is required: the name clients call the model by', 'model_name');
  const params = objectField(body.litellm_params, 'litellm_params');
  if (!params) throw badRequest('litellm_params is required, with at least {"model": "<provider>/<model>"}', 'litellm_params');
  const info = { ...objectField(body.model_info, 'model_info') };
  refuseTeam(info);
  const id = idOf(info.id, 'model_info.id') ?? randomUUID();
  if (s.configIds.has(id)) throw badRequest(`model_info.id ${id} is already the id of a model of the config file: ids are unique`, 'model_info.id');
  if (s.slotsLeft <= 0) throw new AdminError(503, 'This instance serves as many deployments as its health table holds (those deleted while requests still use them count until the requests end): delete some, or try again shortly.');
  delete info.db_model;
  validate(s, modelName, params, info);
  return mutate(call, async (op) => {
    if (await findRow(op.db, TABLE, { model_id: id })) throw badRequest(`A model with id=${id} already exists: ids are unique (use /model/update to change it)`, 'model_info.id');
    const row = await insertRow(op.db, TABLE, {
      model_id: id,
      model_name: modelName,
      litellm_params: encryptParams(params, s),
      model_info: { ...info, id },
      created_by: op.actor,
      updated_by: op.actor,
      created_at: op.nowIso,
      updated_at: op.nowIso,
    });
    await op.audit('created', TABLE, id, null, row);
    op.notify('model', [id]);
    return answer(row, params);
  });
}

/**
 * Changes a stored model: litellm_params merged key by key (a value given replaces the stored one,
 * null or absent keeps it, as in LiteLLM), model_name and model_info when given.
 */
async function updateModel(call: Call, id: string, body: Obj, missing: () => AdminError): Promise<unknown> {
  const s = settingsOf(call);
  const params = objectField(body.litellm_params, 'litellm_params') ?? {};
  const info = { ...objectField(body.model_info, 'model_info') };
  refuseTeam(info);
  delete info.id;
  delete info.db_model;
  const newName = body.model_name;
  if (newName !== undefined && newName !== null && (typeof newName !== 'string' || newName.trim() === '')) throw badRequest('model_name must be a non-empty string', 'model_name');
  return mutate(call, async (op) => {
    const row = await findRow(op.db, TABLE, { model_id: id }, true);
    if (!row) throw s.configIds.has(id) ? readOnly(id) : missing();
    const before = stored(row.litellm_params);
    const clear = decryptParams(before, s.saltKey);
    if ('error' in clear) throw badRequest(`Model ${id}: ${clear.error}; delete it and add it again with /model/new`);
    const given = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== null && v !== undefined));
    const plain = { ...clear.params, ...given };
    const name = typeof newName === 'string' ? newName : (row.model_name as string);
    const mergedInfo = { ...stored(row.model_info), ...info, id };
    validate(s, name, plain, mergedInfo);
    const updated = await updateRow(op.db, TABLE, { model_id: id }, {
      model_name: name,
      litellm_params: { ...before, ...encryptParams(given, s) },
      model_info: mergedInfo,
      updated_by: op.actor,
      updated_at: op.nowIso,
    });
    await op.audit('updated', TABLE, id, row, updated);
    op.notify('model', [id]);
    return answer(updated!, plain);
  });
}

/** POST /model/update {model_name?, litellm_params?, model_info: {id, …}}. */
export async function modelUpdate(call: Call): Promise<unknown> {
  const body = bodyOf(call);
  const id = idOf(objectField(body.model_info, 'model_info')?.id, 'model_info.id');
  if (id === undefined) throw badRequest('model_info.id not provided: name the model to update by its id', 'model_info.id');
  return updateModel(call, id, body, () => badRequest(`Model with id=${id} not found in db`, 'model_info.id'));
}

/** PATCH /model/{model_id}/update {model_name?, litellm_params?, model_info?}. */
export async function modelPatch(call: Call, id: string | null): Promise<unknown> {
  if (!id) throw badRequest('model id missing in the path /model/{model_id}/update');
  return updateModel(call, id, bodyOf(call), () => new AdminError(404, `Model ${id} not found on proxy.`));
}

/** POST /model/delete {"id"}. */
export async function modelDelete(call: Call): Promise<unknown> {
  const s = settingsOf(call);
  const id = idOf(bodyOf(call).id, 'id');
  if (id === undefined) throw badRequest('id is required: the model_info.id of the model to delete', 'id');
  return mutate(call, async (op) => {
    const row = await findRow(op.db, TABLE, { model_id: id }, true);
    if (!row) throw s.configIds.has(id) ? readOnly(id) : badRequest(`Model with id=${id} not found in db`, 'id');
    await q(op.db, `DELETE FROM "${TABLE}" WHERE model_id = $1`, [id]);
    await op.audit('deleted', TABLE, id, row, null);
    op.notify('model', [id]);
    return { message: `Model: ${id} deleted successfully` };
  });
}
