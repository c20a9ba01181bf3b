import type { LiteLLMConfig } from './types';

/** The database URL the config asks for: general_settings.database_url, else DATABASE_URL. */
export function databaseUrl(cfg: LiteLLMConfig): string | null {
  return cfg.general_settings.database_url ?? process.env.DATABASE_URL ?? null;
}
