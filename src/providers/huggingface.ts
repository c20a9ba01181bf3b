// Hugging Face (`huggingface/`), as LiteLLM builds the URL: an api_base (or HF_API_BASE) gets
// `/v1/chat/completions` unless it ends in it (`/v1` gets `/chat/completions`); without one, the
// Inference Providers router. `huggingface/<org>/<model>` goes to the router's OpenAI endpoint as
// is; `huggingface/<provider>/<org>/<model>` names the inference provider, which the router takes
// as a `:<provider>` suffix on the model id (LiteLLM instead asks the Hub for the provider's own
// model id on every call: a network lookup the gateway does not make on the request path).
import type { BaseUrl } from './base-url';
import type { Route } from './route';
import type { DeploymentParams } from './target';

export function huggingfaceRoute(base: BaseUrl, p: DeploymentParams, explicit: boolean): Route {
  if (explicit) {
    const bp = base.basePath;
    const path = bp.endsWith('/chat/completions') ? bp : bp.endsWith('/v1') ? `${bp}/chat/completions` : `${bp}/v1/chat/completions`;
    return { path };
  }
  const parts = p.upstreamModel.split('/');
  const upstreamModel = parts.length >= 3 ? `${parts.slice(1).join('/')}:${parts[0]}` : p.upstreamModel;
  return { path: `${base.basePath}/chat/completions`, upstreamModel };
}
