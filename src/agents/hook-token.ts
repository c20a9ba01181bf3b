// The token in a job's webhook URL (`POST /v1/hooks/{token}`). Derived, not stored: an HMAC of the
// job name under a server secret, so every instance and every restart serves a config job at the
// same URL, and the URL changes only when the secret does. 32 base64url characters = 192 bits.
import { createHmac } from 'node:crypto';

const TOKEN_CHARS = 32;

export function hookToken(jobName: string, serverSecret: string): string {
  return createHmac('sha256', serverSecret).update(`weir-hook:${jobName}`).digest('base64url').slice(0, TOKEN_CHARS);
}

/**
 * The secret hook tokens derive from: WEIR_WEBHOOK_SECRET, else LITELLM_SALT_KEY (already a
 * deployment-wide secret every instance shares), else the master key; null when there is none
 * (the caller then persists a random one in the database).
 */
export function serverSecretFrom(env: Record<string, string | undefined>, masterKey: string | null | undefined): string | null {
  for (const v of [env.WEIR_WEBHOOK_SECRET, env.LITELLM_SALT_KEY, masterKey]) {
    const s = v?.trim();
    if (s) return s;
  }
  return null;
}
