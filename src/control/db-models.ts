// Models kept in LiteLLM_ProxyModelTable (general_settings.store_model_in_db, or STORE_MODEL_IN_DB),
// read as LiteLLM reads them: every string of litellm_params decrypted with the salt key (a value
// that is no ciphertext is taken as it is, LiteLLM's return_original_value), `model_info.id` = the
// row's model_id, `db_model: true`. They then load as model_list entries do (os.environ/ resolved,
// validated) and join the config's models in the routing snapshot (see boot.ts).
import type pg from 'pg';
import { describeConfigError, loadDeployment } from '../config/load';
import type { Deployment, DeploymentEnv, LiteLLMConfig } from '../config/types';
import { decryptAtRest, isVersionedGcm } from '../db/at-rest-crypto';

/** Rows read at most: half the shared health table (4,096 deployment slots); past it, the newest are left out and logged. */
export const MAX_DB_MODELS = positive(process.env.WEIR_MAX_DB_MODELS, 2_048);

function positive(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : fallback;
}

export interface DbModelRow {
  model_id: string;
  model_name: string;
  litellm_params: unknown;
  model_info: unknown;
}

export interface DbModelSet {
  deployments: Deployment[];
  /** Per deployment (same index): its unset os.environ/ variables and api_base variable. */
  envs: (DeploymentEnv | undefined)[];
  /** One line per row left out, naming the row and why (never a value). */
  problems: string[];
}

/** LiteLLM's store_model_in_db: general_settings.store_model_in_db, else the STORE_MODEL_IN_DB variable. */
export function storeModelInDb(cfg: LiteLLMConfig, env: Record<string, string | undefined>): boolean {
  const v = cfg.general_settings.store_model_in_db ?? env.STORE_MODEL_IN_DB;
  return v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');
}

/**
 * A digest of everything the table holds, computed by PostgreSQL: the poll that finds it unchanged
 * (nearly every poll) moves no rows, parses no JSON, decrypts nothing and builds no snapshot.
 * Whole rows are digested, not updated_at: a row changed by hand or by another tool counts too.
 */
export async function modelTableDigest(db: pg.Pool): Promise<string> {
  const r = await db.query<{ d: string | null; n: number }>(
    `SELECT md5(string_agg(concat_ws(chr(31), model_id, model_name, litellm_params::text, model_info::text), chr(30) ORDER BY model_id)) AS d, count(*)::int AS n FROM "LiteLLM_ProxyModelTable"`,
  );
  return `${r.rows[0]?.n ?? 0}:${r.rows[0]?.d ?? ''}`;
}

/** The rows, oldest first (so a group's order is stable), one past the bound to tell it was passed. */
export async function readModelRows(db: pg.Pool): Promise<{ rows: DbModelRow[]; truncated: boolean }> {
  const r = await db.query<DbModelRow>(
    `SELECT model_id, model_name, litellm_params, model_info FROM "LiteLLM_ProxyModelTable" ORDER BY created_at, model_id LIMIT $1`,
    [MAX_DB_MODELS + 1],
  );
  const truncated = r.rows.length > MAX_DB_MODELS;
  return { rows: truncated ? r.rows.slice(0, MAX_DB_MODELS) : r.rows, truncated };
}

/** A JSON column LiteLLM may have written as a JSON string (prisma's Json from json.dumps). */
function objectOf(v: unknown): Record<string, unknown> | null {
  let x = v;
  for (let i = 0; i < 2 && typeof x === 'string'; i++) {
    try {
      x = JSON.parse(x);
    } catch {
      return null;
    }
  }
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
}

/** litellm_params in the clear; null (with why) when a value is a ciphertext this salt key cannot open. */
export function decryptParams(params: Record<string, unknown>, salt: string | null): { params: Record<string, unknown> } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'string') {
      out[k] = v;
      continue;
    }
    const plain = salt ? decryptAtRest(v, salt) : null;
    if (plain !== null) out[k] = plain;
    else if (isVersionedGcm(v)) return { error: `litellm_params.${k} could not be decrypted: it was written under another salt key (LITELLM_SALT_KEY, else the master key)` };
    else out[k] = v;
  }
  return { params: out };
}

/** The rows as deployments; rows that cannot load are left out and named in `problems`. */
export function modelsFromRows(rows: DbModelRow[], salt: string | null, env: NodeJS.ProcessEnv, configIds: ReadonlySet<string> = new Set()): DbModelSet {
  const set: DbModelSet = { deployments: [], envs: [], problems: [] };
  for (const row of rows) {
    const why = (m: string) => set.problems.push(`database model ${row.model_id} (${row.model_name}) left out: ${m}`);
    if (configIds.has(row.model_id)) {
      why('a model of the config file has this id (ids are unique; the config file wins)');
      continue;
    }
    const params = objectOf(row.litellm_params);
    if (!params) {
      why('litellm_params is not a JSON object');
      continue;
    }
    const clear = decryptParams(params, salt);
    if ('error' in clear) {
      why(clear.error);
      continue;
    }
    const info = objectOf(row.model_info) ?? {};
    try {
      const { deployment, env: denv } = loadDeployment({ model_name: row.model_name, litellm_params: clear.params, model_info: { ...info, id: row.model_id, db_model: true } }, env);
      set.deployments.push(deployment);
      set.envs.push(denv);
    } catch (e) {
      why(describeConfigError(e).replace(/model_list\[0\]\./g, ''));
    }
  }
  return set;
}

/** The config with the database's models after its own (indices of deployment_env shifted to match). */
export function withDbModels(cfg: LiteLLMConfig, db: DbModelSet | null): LiteLLMConfig {
  if (!db || db.deployments.length === 0) return cfg;
  const deploymentEnv = { ...cfg.deployment_env };
  const base = cfg.model_list.length;
  db.envs.forEach((e, i) => {
    if (e) deploymentEnv[base + i] = e;
  });
  return { ...cfg, model_list: [...cfg.model_list, ...db.deployments], deployment_env: deploymentEnv };
}
