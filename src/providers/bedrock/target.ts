// `bedrock/…` deployments, with LiteLLM's parameter names: the model id (`bedrock/<id>`, or
// `bedrock/invoke/<id>` and `bedrock/converse/<id>` to choose the API), aws_region_name (else
// AWS_REGION, AWS_DEFAULT_REGION), aws_bedrock_runtime_endpoint (else api_base, else
// AWS_BEDROCK_RUNTIME_ENDPOINT, else the region's bedrock-runtime endpoint), model_id (a
// provisioned-throughput or inference-profile ARN sent in the path instead of the id), and the
// credentials of credentials.ts.
//
// Claude models (`anthropic.…`, and the cross-region inference profiles `us.anthropic.…`,
// `global.anthropic.…`) are called through InvokeModel, which takes the Anthropic body (invoke.ts);
// every other model through Converse (converse.ts). Both speak the Anthropic dialect to the rest of
// the gateway, so an OpenAI client reaches either through the usual translation.
//
// Everything here runs at config load. The wire (providers/wire.ts) is made per thread from the
// plain spec: its signer and the thread's credential cache.
import { parseBaseUrl } from '../base-url';
import { unavailable, type DeploymentParams, type ProviderTarget } from '../target';
import { registerWire, type Wire, type WireSpec, type WireTarget } from '../wire';
import type { AwsCredentialSpec } from './credentials';
import { credentialsFor } from './credentials';
import { converseWire } from './converse-wire';
import { invokeWire } from './invoke-wire';
import { AwsSigner } from './sign';

export type BedrockRoute = 'invoke' | 'converse';

export interface BedrockWireSpec extends WireSpec {
  kind: 'bedrock';
  region: string;
  /** Path prefix of the runtime endpoint ('' for AWS's own). */
  basePath: string;
  credentials: AwsCredentialSpec;
  /** litellm_params.model_id: sent in the path instead of the model's id. */
  modelId: string | null;
}

/** Region prefixes of cross-region inference profiles (`us.anthropic.claude-…`). */
const PROFILE_PREFIX = /^(us|eu|apac|au|ca|jp|us-gov|global)\./;

/** The API a Bedrock model id is called through, and the id without LiteLLM's route prefix. */
export function bedrockRoute(model: string): { route: BedrockRoute; id: string } {
  if (model.startsWith('invoke/')) return { route: 'invoke', id: model.slice(7) };
  if (model.startsWith('converse/')) return { route: 'converse', id: model.slice(9) };
  return { route: isClaude(model) ? 'invoke' : 'converse', id: model };
}

/** Whether a Bedrock model id names Claude (directly or through an inference profile). */
export function isClaude(id: string): boolean {
  return id.replace(PROFILE_PREFIX, '').startsWith('anthropic.');
}

/**
 * The Anthropic API's name for a Bedrock Claude id, for the price table (Bedrock's list prices
 * are Anthropic's): `us.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5-20250929`.
 */
export function anthropicName(id: string): string | undefined {
  if (!isClaude(id)) return undefined;
  return id.replace(PROFILE_PREFIX, '').slice('anthropic.'.length).replace(/-v\d+(:\d+)?$/, '');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function bedrockTarget(p: DeploymentParams): ProviderTarget {
  const lp = p.litellm ?? {};
  const region = str(lp.aws_region_name) ?? p.env.AWS_REGION ?? p.env.AWS_DEFAULT_REGION;
  const credentials: AwsCredentialSpec = {
    region: region ?? '',
    accessKeyId: str(lp.aws_access_key_id),
    secretAccessKey: str(lp.aws_secret_access_key),
    sessionToken: str(lp.aws_session_token),
    roleArn: str(lp.aws_role_name),
    sessionName: str(lp.aws_session_name),
    profile: str(lp.aws_profile_name),
  };
  const secrets = [credentials.secretAccessKey, credentials.sessionToken].filter((s): s is string => s !== undefined);
  const { route, id } = bedrockRoute(p.upstreamModel);
  const params = { ...p, upstreamModel: id };
  if (!region) return { ...unavailable(params, 'anthropic', 'bedrock needs a region: set litellm_params.aws_region_name, or AWS_REGION'), secrets };
  if (route === 'invoke' && id !== '*' && !isClaude(id)) return { ...unavailable(params, 'anthropic', `bedrock/invoke/ is served for Claude models; call ${id} through bedrock/converse/${id}`), secrets };
  if ((credentials.accessKeyId === undefined) !== (credentials.secretAccessKey === undefined)) {
    return { ...unavailable(params, 'anthropic', 'bedrock: aws_access_key_id and aws_secret_access_key go together'), secrets };
  }
  const endpoint = str(lp.aws_bedrock_runtime_endpoint) ?? p.apiBase ?? p.env.AWS_BEDROCK_RUNTIME_ENDPOINT ?? `https://bedrock-runtime.${region}.amazonaws.com`;
  const base = parseBaseUrl(endpoint);
  const spec: BedrockWireSpec = { kind: 'bedrock', region, basePath: base.basePath, credentials, modelId: str(lp.model_id) ?? null };
  return {
    provider: 'bedrock',
    dialect: 'anthropic',
    // The route prefix stays in a wildcard's name (`bedrock/converse/*`): the wire reads it per name.
    upstreamModel: id === '*' ? p.upstreamModel : id,
    origin: base.origin,
    path: `${base.basePath}/model/${encodeURIComponent(spec.modelId ?? id)}/${route === 'invoke' ? 'invoke' : 'converse'}`,
    apiBase: base.shown,
    headers: [],
    secrets: [...secrets, ...base.secrets],
    unavailable: null,
    wire: spec,
    priceAlias: anthropicName(id),
  };
}

function bedrockWire(spec: WireSpec, t: WireTarget): Wire {
  const s = spec as BedrockWireSpec;
  const { route, id } = bedrockRoute(t.upstreamModel);
  const signer = new AwsSigner(credentialsFor(s.credentials), s.region, t.origin);
  const modelPath = `${s.basePath}/model/${encodeURIComponent(s.modelId ?? id)}`;
  return route === 'invoke' ? invokeWire(modelPath, s.basePath, id, signer) : converseWire(modelPath, id, signer);
}

registerWire('bedrock', bedrockWire);
