// `gemini/`: Google AI Studio's Gemini API, generateContent / streamGenerateContent?alt=sse under
// https://generativelanguage.googleapis.com/v1beta/models/{model}, the key in `x-goog-api-key`
// (api_key, else GEMINI_API_KEY). The body is the Gemini dialect (translate/gemini-*.ts); the
// wire only picks the path by stream or not.
import { parseBaseUrl, withQuery } from './base-url';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';
import { registerWire } from './wire';

export const GEMINI_API_BASE = 'https://generativelanguage.googleapis.com';

export function geminiTarget(p: DeploymentParams): ProviderTarget {
  const apiKey = p.apiKey ?? p.env.GEMINI_API_KEY;
  if (!apiKey) return unavailable(p, 'gemini', 'no API key for gemini: set GEMINI_API_KEY or litellm_params.api_key');
  const base = parseBaseUrl(p.apiBase ?? p.env.GEMINI_API_BASE ?? GEMINI_API_BASE);
  // An api_base that already names the version (…/v1beta, …/v1) is used as it is.
  const versioned = /\/v1(beta|alpha)?$/.test(base.basePath);
  const models = `${base.basePath}${versioned ? '' : '/v1beta'}/models/${encodeURIComponent(p.upstreamModel)}`;
  return {
    provider: 'gemini',
    dialect: 'gemini',
    upstreamModel: p.upstreamModel,
    origin: base.origin,
    path: withQuery(`${models}:generateContent`, base.query),
    apiBase: base.shown,
    headers: base.basicAuth ? ['x-goog-api-key', apiKey, 'authorization', base.basicAuth] : ['x-goog-api-key', apiKey],
    secrets: [apiKey, ...base.secrets],
    unavailable: null,
    wire: { kind: 'gemini-studio', at: models, query: base.query },
  };
}

registerWire('gemini-studio', (spec) => {
  const at = spec.at as string;
  const query = spec.query as string;
  const plain = withQuery(`${at}:generateContent`, query);
  const streamed = withQuery(`${at}:streamGenerateContent?alt=sse`, query);
  return {
    path: (stream) => (stream ? streamed : plain),
    body: (body) => body,
    dialectHeaders: false,
    sign: () => [],
    decoder: () => null,
    countTokens: null,
  };
});
