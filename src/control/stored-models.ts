// The control thread's side of models stored in the database: what the management endpoints need
// of the running config (ModelSettings), the rows last read as deployments, and the config they join
// in each snapshot built. Governance reads the table (db-models.ts) and hands changed rows to apply().
import type { ModelSettings } from '../admin/types';
import type { LiteLLMConfig } from '../config/types';
import { saltKeyFrom, writeAlgorithm } from '../db/at-rest-crypto';
import { log } from '../log';
import { deploymentId } from './build-snapshot';
import { type DbModelRow, type DbModelSet, MAX_DB_MODELS, modelsFromRows, storeModelInDb, withDbModels } from './db-models';
import type { SlotTable } from './slots';

export interface StoredModelsDeps {
  /** The config serving now (it changes on reload). */
  config(): LiteLLMConfig;
  slots: SlotTable;
  /** Builds and publishes a snapshot with the models now held; false when the build was refused. */
  rebuild(): Promise<boolean>;
}

/** The master key a config sets (else LITELLM_MASTER_KEY). */
export function masterKeyOf(cfg: LiteLLMConfig): string | null {
  return cfg.general_settings.master_key ?? process.env.LITELLM_MASTER_KEY ?? null;
}

export class StoredModels {
  private set: DbModelSet | null = null;
  private configIds: { of: LiteLLMConfig | null; ids: ReadonlySet<string> } = { of: null, ids: new Set() };

  constructor(private readonly deps: StoredModelsDeps) {}

  /** `cfg` with the stored models after its own, when it keeps models in the database. */
  merged(cfg: LiteLLMConfig, env: NodeJS.ProcessEnv): LiteLLMConfig {
    return withDbModels(cfg, storeModelInDb(cfg, env) ? this.set : null);
  }

  settings(): ModelSettings {
    const cfg = this.deps.config();
    if (this.configIds.of !== cfg) this.configIds = { of: cfg, ids: new Set(cfg.model_list.map(deploymentId)) };
    return {
      storeInDb: storeModelInDb(cfg, process.env),
      saltKey: saltKeyFrom(process.env, masterKeyOf(cfg)),
      algorithm: writeAlgorithm(cfg.general_settings.encryption_algorithm),
      configIds: this.configIds.ids,
      env: process.env,
      slotsLeft: this.deps.slots.free(),
    };
  }

  /** The table's rows changed: load them and serve them (resolves once the snapshot is posted to the workers). */
  async apply(rows: DbModelRow[], truncated: boolean): Promise<void> {
    const s = this.settings();
    const next = modelsFromRows(rows, s.saltKey, process.env, s.configIds);
    for (const p of next.problems) log.warn(p);
    if (truncated) log.warn(`database models: more than ${MAX_DB_MODELS} rows in LiteLLM_ProxyModelTable; the newest are left out (WEIR_MAX_DB_MODELS raises the bound)`);
    const previous = this.set;
    this.set = next;
    // An empty table at start (or still empty): nothing to serve differently.
    if (next.deployments.length === 0 && (previous?.deployments.length ?? 0) === 0) return;
    if (await this.deps.rebuild()) {
      log.info(`models from the database: ${next.deployments.length ? next.deployments.map((d) => d.model_name).join(', ') : '(none)'}`);
    } else {
      this.set = previous;
    }
  }
}
