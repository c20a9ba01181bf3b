// Where a deployment's api_base comes from (litellm_params.api_base, a provider variable such as
// AZURE_API_BASE, or the provider's default), read once at config load. A value that cannot be a
// URL makes the deployment unavailable with a reason naming where it came from, as LiteLLM starts
// with such a deployment and fails only its calls: a placeholder left from a docs example
// (`https://<your-resource>.openai.azure.com`) or a variable holding something else.
import { parseBaseUrl, shownUrl, type BaseUrl } from './base-url';
import type { DeploymentParams } from './target';

export type ApiBase = { ok: true; base: BaseUrl; explicit: boolean } | { ok: false; reason: string } | null;

/** `<your-endpoint>`-style text: a value from an example that was never filled in. */
export function isPlaceholder(text: string): boolean {
  return /<[^<>]*>/.test(text);
}

/**
 * The api_base of a deployment: litellm_params.api_base, else the first of `baseEnv` that is set,
 * else `fallback`; null when there is none.
 */
export function resolveApiBase(p: DeploymentParams, baseEnv: readonly string[], fallback?: string): ApiBase {
  let text: string | undefined;
  let from = '';
  if (p.apiBase !== undefined) {
    text = p.apiBase;
    from = p.apiBaseVar ? `litellm_params.api_base (from os.environ/${p.apiBaseVar})` : 'litellm_params.api_base';
  } else {
    for (const name of baseEnv) {
      const v = p.env[name];
      if (v) {
        text = v;
        from = name;
        break;
      }
    }
  }
  const explicit = text !== undefined;
  text ??= fallback;
  if (text === undefined) return null;
  const what = explicit ? from : 'the default api_base';
  if (isPlaceholder(text)) return { ok: false, reason: `${what} is a placeholder (${JSON.stringify(shownUrl(text))}): set it to the provider's URL` };
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return { ok: false, reason: `${what} is not an http:// or https:// URL (${JSON.stringify(shownUrl(text))})` };
  }
  return { ok: true, base: parseBaseUrl(text), explicit };
}

/** The first of `names` that is set in the environment. */
export function firstEnv(env: NodeJS.ProcessEnv, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = env[name];
    if (v) return v;
  }
  return undefined;
}
