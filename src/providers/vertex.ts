// `vertex_ai/`: Claude through Vertex AI's rawPredict / streamRawPredict (the Anthropic dialect on
// another wire: model and stream in the URL, `anthropic_version: vertex-2023-10-16` in the body
// instead of `model`, a Google bearer token), and Gemini through generateContent /
// streamGenerateContent?alt=sse (the Gemini dialect, translate/gemini-*.ts).
//
// Read at config load, as LiteLLM reads them: vertex_project (vertex_ai_project, VERTEXAI_PROJECT,
// else the service account's project_id), vertex_location (vertex_ai_location, VERTEXAI_LOCATION,
// default us-central1; `global` → aiplatform.googleapis.com), vertex_credentials (a path or the
// JSON, os.environ/ resolved by the loader; else GOOGLE_APPLICATION_CREDENTIALS; else Application
// Default Credentials), api_base (replaces https://{location}-aiplatform.googleapis.com).
// Tokens come from google-auth.ts, per thread, refreshed before they expire.
import { parseBaseUrl } from './base-url';
import { credentialProject, credentialSpec, tokenSource, type GoogleCredentialSpec } from './google-auth';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';
import { registerWire, type Wire, type WireSpec } from './wire';
import { memberSplit } from '../gateway/body-scan';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';
export const DEFAULT_VERTEX_LOCATION = 'us-central1';

/** Vertex AI's host for a location. */
export function vertexOrigin(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Claude models are Anthropic's publisher on Vertex (the Anthropic dialect); the rest Google's (Gemini). */
function isClaude(model: string): boolean {
  return /^claude/.test(model);
}

function modelPath(model: string): string {
  return encodeURIComponent(model).replace(/%40/g, '@');
}

/**
 * What depends on the model: dialect, wire kind, path. Also used when a wildcard deployment
 * (`vertex_ai/*`) is made concrete for a requested name (gateway/model-groups.ts).
 */
export function vertexModelParts(spec: WireSpec, upstreamModel: string): Pick<ProviderTarget, 'dialect' | 'path' | 'wire'> {
  const claude = isClaude(upstreamModel);
  const wire: WireSpec = { ...spec, kind: claude ? 'vertex-anthropic' : 'vertex-gemini' };
  const path = `${spec.publishers as string}/${claude ? 'anthropic' : 'google'}/models/${modelPath(upstreamModel)}:${claude ? 'rawPredict' : 'generateContent'}`;
  return { dialect: claude ? 'anthropic' : 'gemini', path, wire };
}

export function vertexTarget(p: DeploymentParams): ProviderTarget {
  const lp = p.litellm ?? {};
  const dialect = isClaude(p.upstreamModel) ? 'anthropic' : 'gemini';
  let cred: GoogleCredentialSpec;
  try {
    cred = credentialSpec(lp.vertex_credentials ?? lp.vertex_ai_credentials ?? p.env.GOOGLE_APPLICATION_CREDENTIALS);
  } catch (e) {
    return unavailable(p, dialect, (e as Error).message);
  }
  const project = str(lp.vertex_project) ?? str(lp.vertex_ai_project) ?? str(p.env.VERTEXAI_PROJECT) ?? str(p.env.VERTEX_PROJECT) ?? credentialProject(cred);
  const location = str(lp.vertex_location) ?? str(lp.vertex_ai_location) ?? str(p.env.VERTEXAI_LOCATION) ?? str(p.env.VERTEX_LOCATION) ?? DEFAULT_VERTEX_LOCATION;
  if (!project) return unavailable(p, dialect, 'vertex_ai deployments need a project: set litellm_params.vertex_project or VERTEXAI_PROJECT');
  const base = parseBaseUrl(p.apiBase ?? vertexOrigin(location));
  const publishers = `${base.basePath}/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/publishers`;
  // project, location and basePath: the /vertex_ai/* pass-through finds its deployment by them.
  const spec: WireSpec = { kind: '', publishers, credential: cred, project, location, basePath: base.basePath };
  return {
    provider: 'vertex_ai',
    upstreamModel: p.upstreamModel,
    origin: base.origin,
    apiBase: base.shown,
    headers: base.basicAuth ? ['authorization', base.basicAuth] : [],
    secrets: [...base.secrets],
    unavailable: null,
    ...vertexModelParts(spec, p.upstreamModel),
    // Vertex names Claude `claude-sonnet-4-5@20250929`: priced as the Anthropic model it is.
    ...(dialect === 'anthropic' ? { priceAlias: p.upstreamModel.replace(/@.*$/, '') } : {}),
  };
}

function bearer(cred: GoogleCredentialSpec): Wire['sign'] {
  const source = tokenSource(cred);
  return () => {
    const t = source.get();
    return typeof t === 'string' ? ['authorization', `Bearer ${t}`] : t.then((v) => ['authorization', `Bearer ${v}`]);
  };
}

const VERSION_MEMBER = Buffer.from(`{"anthropic_version":${JSON.stringify(VERTEX_ANTHROPIC_VERSION)}`);
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');

/** `{first` + `,member`… + `}`: one copy of the kept members' bytes. */
function withFirst(first: Buffer, kept: Buffer[]): Buffer {
  const parts: Buffer[] = [first];
  for (const m of kept) parts.push(COMMA, m);
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/**
 * The Anthropic body as Vertex takes it: `model` out (the URL names it), `anthropic_version` in
 * (the client's own when it sent one). One walk over the top level (string values skipped by
 * indexOf) and one copy.
 */
export function vertexAnthropicBody(body: Buffer): Buffer {
  const { kept, taken } = memberSplit(body, ['model', 'anthropic_version']);
  const version = typeof taken.anthropic_version === 'string' ? Buffer.from(`{"anthropic_version":${JSON.stringify(taken.anthropic_version)}`) : VERSION_MEMBER;
  return withFirst(version, kept);
}

registerWire('vertex-anthropic', (spec, t) => {
  const models = `${spec.publishers as string}/anthropic/models`;
  const at = `${models}/${modelPath(t.upstreamModel)}`;
  const countPath = `${models}/count-tokens:rawPredict`;
  return {
    path: (stream) => (stream ? `${at}:streamRawPredict` : `${at}:rawPredict`),
    body: (body) => vertexAnthropicBody(body),
    dialectHeaders: true,
    sign: bearer(spec.credential as GoogleCredentialSpec),
    decoder: () => null,
    // Vertex counts Claude tokens at its own count-tokens model, with `model` in the body.
    countTokens: {
      path: countPath,
      body: (body) => withFirst(Buffer.from(`{"model":${JSON.stringify(t.upstreamModel)}`), memberSplit(body, ['model', 'anthropic_version']).kept),
      answer: (reply) => reply.toString('utf8'),
    },
  };
});

registerWire('vertex-gemini', (spec, t) => {
  const at = `${spec.publishers as string}/google/models/${modelPath(t.upstreamModel)}`;
  return {
    path: (stream) => (stream ? `${at}:streamGenerateContent?alt=sse` : `${at}:generateContent`),
    body: (body) => body,
    dialectHeaders: false,
    sign: bearer(spec.credential as GoogleCredentialSpec),
    decoder: () => null,
    countTokens: null,
  };
});
