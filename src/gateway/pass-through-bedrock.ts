// Where /bedrock/* goes and how it is signed: the Bedrock runtime of the gateway's environment
// (AWS_REGION or AWS_DEFAULT_REGION; AWS_BEDROCK_RUNTIME_ENDPOINT, else the region's endpoint),
// with the default AWS credential chain (environment, shared files, web identity, instance
// metadata), as LiteLLM's Bedrock pass-through does. Made once per thread and environment: the
// credentials are cached and refreshed off the request path (providers/bedrock/credentials.ts).
import { parseBaseUrl } from '../providers/base-url';
import { ConverseStreamDecoder, anthropicMessage } from '../providers/bedrock/converse';
import { credentialsFor } from '../providers/bedrock/credentials';
import { InvokeStreamDecoder } from '../providers/bedrock/invoke';
import { AwsSigner } from '../providers/bedrock/sign';
import type { PassThroughBilling, ProviderBase } from './pass-through';
import type { PassThroughRoute } from './pass-through-route';

const bases = new Map<string, ProviderBase>();

export function bedrockPassThroughBase(env: NodeJS.ProcessEnv): ProviderBase {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '';
  const endpoint = env.AWS_BEDROCK_RUNTIME_ENDPOINT ?? (region ? `https://bedrock-runtime.${region}.amazonaws.com` : 'https://bedrock-runtime.invalid');
  const key = `${region}\n${endpoint}`;
  let base = bases.get(key);
  if (!base) {
    const url = parseBaseUrl(endpoint);
    const signer = region ? new AwsSigner(credentialsFor({ region }), region, url.origin) : null;
    base = {
      origin: url.origin,
      basePath: url.basePath,
      query: url.query,
      apiBase: url.shown,
      auth: [],
      sign: signer
        ? (method, path, headers, body) => signer.sign(method, path, headers, body)
        : () => Promise.reject(new Error('the Bedrock pass-through needs a region: set AWS_REGION for the gateway')),
    };
    // Environments are few (one per config's environment_variables); the bound is for safety.
    if (bases.size >= 64) bases.clear();
    bases.set(key, base);
  }
  return base;
}

/** How a Bedrock LLM route's answer is read as the Anthropic dialect, for its usage. */
export function bedrockDecode(route: PassThroughRoute): PassThroughBilling['decode'] {
  const b = route.bedrock;
  if (!b) return undefined;
  if (b.api === 'invoke') return { stream: () => new InvokeStreamDecoder() };
  return { stream: () => new ConverseStreamDecoder(b.model), whole: (raw) => anthropicMessage(raw, b.model) };
}
