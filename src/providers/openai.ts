// OpenAI and every provider that serves the OpenAI chat completions API under its own base URL:
// one builder over the table of compat-table.ts (default base, key and base variables, parameter
// quirks), with the two providers whose URL or auth differ (azure_ai, huggingface) in their own files.
import { resolveApiBase, firstEnv } from './api-base';
import { withQuery } from './base-url';
import { OPENAI_COMPATIBLE, unsupportedParams } from './compat-table';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';
import { azureAiRoute } from './azure-ai';
import { huggingfaceRoute } from './huggingface';
import { basetenRoute } from './baseten';

export { OPENAI_COMPATIBLE } from './compat-table';

export function openaiTarget(p: DeploymentParams): ProviderTarget {
  const compat = OPENAI_COMPATIBLE[p.provider]!;
  const resolved = resolveApiBase(p, compat.baseEnv, compat.base);
  const apiKey = p.apiKey ?? firstEnv(p.env, compat.keyEnv);
  if (resolved === null) {
    const vars = compat.baseEnv.length ? ` (or ${compat.baseEnv.join(' / ')})` : '';
    return unavailable(p, 'openai', `provider ${p.provider} needs litellm_params.api_base${vars}`);
  }
  if (!resolved.ok) return unavailable(p, 'openai', resolved.reason);
  // A hosted default needs a key; a server the user points at (vLLM, a local proxy) may not.
  if (!apiKey && !resolved.explicit && !compat.keyOptional) {
    const vars = compat.keyEnv.length ? compat.keyEnv.join(' or ') : 'an API key variable';
    return unavailable(p, 'openai', `no API key for ${p.provider}: set ${vars} or litellm_params.api_key`);
  }
  const base = resolved.base;
  const special =
    p.provider === 'azure_ai' ? azureAiRoute(base, p)
    : p.provider === 'huggingface' ? huggingfaceRoute(base, p, resolved.explicit)
    : p.provider === 'baseten' && !resolved.explicit ? basetenRoute(p)
    : null;
  const chatPath = compat.chatPath ?? '/chat/completions';
  const path = special?.path ?? (base.basePath.endsWith(chatPath) ? base.basePath : `${base.basePath}${chatPath}`);
  // Credentials in the URL authenticate the call when no API key does.
  const headers: string[] = [];
  if (apiKey) headers.push(special?.keyHeader ?? 'authorization', special?.keyHeader ? apiKey : `Bearer ${apiKey}`);
  if (base.basicAuth && (!apiKey || special?.keyHeader)) headers.push('authorization', base.basicAuth);
  const unsupported = unsupportedParams(compat.supports);
  const renames = compat.renames ?? [];
  return {
    provider: p.provider,
    dialect: 'openai',
    upstreamModel: special?.upstreamModel ?? p.upstreamModel,
    origin: special?.origin ?? base.origin,
    path: withQuery(path, base.query),
    apiBase: base.shown,
    headers,
    secrets: [...(apiKey ? [apiKey] : []), ...base.secrets],
    unavailable: null,
    ...(unsupported.length || renames.length ? { params: { unsupported, renames } } : {}),
  };
}
