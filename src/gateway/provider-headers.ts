// The upstream's response headers as the client sees them: LiteLLM echoes each as
// `llm_provider-<name>`. Hop-by-hop headers and those Weir computes itself are not echoed, nor is
// anything that is a credential: an upstream (or a proxy in front of it) that echoes the request's
// authorization or sets cookies must not hand the operator's secrets to the client, so such
// headers are dropped and every value is scrubbed of the deployment's secrets like error bodies.
import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderList } from '../server/exchange';
import type { Target } from './snapshot';

const NOT_ECHOED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'date',
  'content-type',
  'server',
  'content-encoding',
  'authorization',
  'proxy-authorization',
  'proxy-authenticate',
  'www-authenticate',
  'x-api-key',
  'api-key',
  'cookie',
  'set-cookie',
]);

/** Replaces every secret of the deployment found in `text`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** Appends the echoable upstream headers to `h` as llm_provider-* pairs. */
export function echoProviderHeaders(h: HeaderList, up: IncomingHttpHeaders, t: Target): HeaderList {
  for (const name in up) {
    if (NOT_ECHOED.has(name)) continue;
    const v = up[name];
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(', ') : v;
    h.push(`llm_provider-${name}`, t.secrets.length ? scrubSecrets(value, t.secrets) : value);
  }
  return h;
}
