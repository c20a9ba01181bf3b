// Ollama through its native API, as LiteLLM serves it: `ollama_chat/` → /api/chat (messages, tool
// calls), `ollama/` → /api/generate (the conversation as one prompt, LiteLLM's `ollama_pt`). The
// target speaks OpenAI's dialect to the rest of the gateway; its wire (ollama-wire.ts) translates
// the body to Ollama's and the answer back. Base: api_base, else
// OLLAMA_API_BASE, else http://localhost:11434; a key (OLLAMA_API_KEY, for ollama.com) is sent as
// a bearer token, and none is needed.
import { firstEnv, resolveApiBase } from './api-base';
import { withQuery } from './base-url';
import { unsupportedParams } from './compat-table';
import { ollamaWire, type OllamaWireSpec } from './ollama-wire';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';
import { registerWire } from './wire';

/** The OpenAI parameters LiteLLM's OllamaChatConfig / OllamaConfig list as supported. */
const CHAT_SUPPORTS = ['max_tokens', 'max_completion_tokens', 'stream', 'top_p', 'temperature', 'seed', 'frequency_penalty', 'stop', 'tools', 'tool_choice', 'functions', 'response_format'];
const GENERATE_SUPPORTS = ['max_tokens', 'stream', 'top_p', 'temperature', 'seed', 'frequency_penalty', 'stop', 'response_format', 'max_completion_tokens'];

export function ollamaTarget(p: DeploymentParams): ProviderTarget {
  const chat = p.provider === 'ollama_chat';
  const resolved = resolveApiBase(p, ['OLLAMA_API_BASE'], 'http://localhost:11434')!;
  if (!resolved.ok) return unavailable(p, 'openai', resolved.reason);
  const base = resolved.base;
  const endpoint = chat ? '/api/chat' : '/api/generate';
  const path = base.basePath.endsWith(endpoint) ? base.basePath : `${base.basePath}${endpoint}`;
  const apiKey = p.apiKey ?? firstEnv(p.env, ['OLLAMA_API_KEY']);
  const auth = apiKey ? `Bearer ${apiKey}` : base.basicAuth;
  return {
    provider: p.provider,
    dialect: 'openai',
    upstreamModel: p.upstreamModel,
    origin: base.origin,
    path: withQuery(path, base.query),
    apiBase: base.shown,
    headers: auth ? ['authorization', auth] : [],
    secrets: [...(apiKey ? [apiKey] : []), ...base.secrets],
    unavailable: null,
    params: { unsupported: unsupportedParams(chat ? CHAT_SUPPORTS : GENERATE_SUPPORTS), renames: [] },
    wire: { kind: 'ollama', api: chat ? 'chat' : 'generate', path: withQuery(path, base.query) } satisfies OllamaWireSpec,
  };
}

registerWire('ollama', ollamaWire);
