// Where a /vertex_ai/* (or /vertex-ai/*) or /gemini/* pass-through call goes and with which Google credentials,
// as LiteLLM's Vertex pass-through decides it: the vertex_ai deployment of the config whose project
// and location are the path's (else one of the same project, else the first one), so its api_base
// and vertex_credentials are used; with no vertex_ai deployment, the environment's
// (GOOGLE_APPLICATION_CREDENTIALS or Application Default Credentials, the path's location's host).
// The deployments are listed once per snapshot. Weir adds its own bearer token (cached per
// credential, google-auth.ts); the client's credentials never go upstream.
import { credentialSpec, tokenSource, type GoogleCredentialSpec, type TokenSource } from '../providers/google-auth';
import { vertexOrigin, DEFAULT_VERTEX_LOCATION } from '../providers/vertex';
import { parseBaseUrl } from '../providers/base-url';
import { GatewayError } from './errors';
import type { ProviderBase } from './pass-through';
import { GEMINI_MODEL_CALL, VERTEX_MODEL_CALL } from './pass-through-route';
import type { Snapshot } from './snapshot';

interface VertexDeployment {
  project: string;
  location: string;
  origin: string;
  basePath: string;
  apiBase: string;
  credential: GoogleCredentialSpec;
}

/** What the path names, when it is a model call. */
export interface VertexCall {
  project: string;
  location: string;
  publisher: 'anthropic' | 'google';
  model: string;
  method: string;
}

export interface VertexPassage {
  /** Origin, base path and api_base; `auth` is filled per request from `tokens` (static for AI Studio). */
  base: ProviderBase;
  tokens: TokenSource | null;
  call: VertexCall | null;
}

const listed = new WeakMap<Snapshot, VertexDeployment[]>();

function deployments(snap: Snapshot): VertexDeployment[] {
  let list = listed.get(snap);
  if (list) return list;
  list = [];
  const seen = new Set<string>();
  const wildcardTargets = snap.wildcards.flatMap((r) => r.deployments.map((d) => d.variants.vertex_ai).filter((t) => t !== undefined));
  for (const targets of [...[...snap.groups.values()].map((g) => g.targets), wildcardTargets]) {
    for (const t of targets) {
      const w = t.wire;
      if (t.provider !== 'vertex_ai' || !w || t.unavailable !== null) continue;
      const d: VertexDeployment = { project: w.project as string, location: w.location as string, origin: t.origin, basePath: w.basePath as string, apiBase: t.apiBase, credential: w.credential as GoogleCredentialSpec };
      const k = `${d.project} ${d.location} ${d.origin}${d.basePath} ${d.credential.key}`;
      if (!seen.has(k)) {
        seen.add(k);
        list.push(d);
      }
    }
  }
  listed.set(snap, list);
  return list;
}

const PROJECT_LOCATION = /^\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)(?:\/|$)/;

export function vertexPassage(snap: Snapshot, rest: string, env: NodeJS.ProcessEnv): VertexPassage {
  const m = VERTEX_MODEL_CALL.exec(rest);
  const call: VertexCall | null = m ? { project: m[1]!, location: m[2]!, publisher: m[3] as 'anthropic' | 'google', model: decodeURIComponent(m[4]!), method: m[5]! } : null;
  const pl = PROJECT_LOCATION.exec(rest);
  const project = pl?.[1];
  const location = pl?.[2];
  const list = deployments(snap);
  const d = list.find((x) => x.project === project && x.location === location) ?? list.find((x) => x.project === project) ?? list[0];
  if (d) {
    return { base: { origin: d.origin, basePath: d.basePath, query: '', apiBase: d.apiBase, auth: [] }, tokens: tokenSource(d.credential), call };
  }
  let cred: GoogleCredentialSpec;
  try {
    cred = credentialSpec(env.GOOGLE_APPLICATION_CREDENTIALS);
  } catch (e) {
    throw new GatewayError(503, `Vertex AI pass-through: ${(e as Error).message}`, 'service_unavailable_error');
  }
  const base = parseBaseUrl(vertexOrigin(location ?? env.VERTEXAI_LOCATION ?? DEFAULT_VERTEX_LOCATION));
  return { base: { origin: base.origin, basePath: base.basePath, query: '', apiBase: base.shown, auth: [] }, tokens: tokenSource(cred), call };
}

/**
 * /gemini/*: Google AI Studio with the key of the config's first gemini/ deployment (its api_base
 * too), else GEMINI_API_KEY / GEMINI_API_BASE. Found once per snapshot.
 */
const studio = new WeakMap<Snapshot, { origin: string; basePath: string; apiBase: string; key: string | undefined }>();

export function geminiPassage(snap: Snapshot, rest: string, env: NodeJS.ProcessEnv): VertexPassage {
  let s = studio.get(snap);
  if (!s) {
    let found: { origin: string; basePath: string; apiBase: string; key: string | undefined } | undefined;
    for (const g of snap.groups.values()) {
      const t = g.targets.find((x) => x.provider === 'gemini' && x.unavailable === null);
      if (t) {
        found = { origin: t.origin, basePath: (t.wire?.at as string).replace(/\/models\/[^/]*$/, '').replace(/\/v1(beta|alpha)?$/, ''), apiBase: t.apiBase, key: t.headers[t.headers.indexOf('x-goog-api-key') + 1] };
        break;
      }
    }
    if (!found) {
      const b = parseBaseUrl(env.GEMINI_API_BASE ?? 'https://generativelanguage.googleapis.com');
      found = { origin: b.origin, basePath: b.basePath, apiBase: b.shown, key: env.GEMINI_API_KEY };
    }
    studio.set(snap, (s = found));
  }
  if (!s.key) throw new GatewayError(503, 'Gemini pass-through: no API key (set GEMINI_API_KEY or configure a gemini/ deployment)', 'service_unavailable_error');
  const m = GEMINI_MODEL_CALL.exec(rest);
  const call: VertexCall | null = m ? { project: '', location: '', publisher: 'google', model: decodeURIComponent(m[1]!), method: m[2]! } : null;
  return { base: { origin: s.origin, basePath: s.basePath, query: '', apiBase: s.apiBase, auth: ['x-goog-api-key', s.key] }, tokens: null, call };
}

/** The base with Weir's bearer token: at once when a token is cached, else once one is fetched. */
export function withVertexAuth(p: VertexPassage): ProviderBase | Promise<ProviderBase> {
  if (p.tokens === null) return p.base;
  const t = p.tokens.get();
  if (typeof t === 'string') return { ...p.base, auth: ['authorization', `Bearer ${t}`] };
  return t.then(
    (v) => ({ ...p.base, auth: ['authorization', `Bearer ${v}`] }),
    (e: Error) => {
      throw new GatewayError(502, `Vertex AI pass-through: ${e.message}`, 'api_connection_error');
    },
  );
}
