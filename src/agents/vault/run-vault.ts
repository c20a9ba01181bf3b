// What the vault gives a run before its agent starts, when its profile names secrets or an egress
// allow-list: each secret as a stub in the environment (the real value only for an `inject` one),
// the egress proxy as HTTPS_PROXY / HTTP_PROXY with the run's key in it, the installation's CA in
// the sandbox and in every trust variable common tools read, and the run registered with the proxy
// (unregistered when it ends). What the agent prints is scrubbed of every real value.
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type pg from 'pg';
import type { AgentSetup } from '../agent-setup';
import type { HarnessInput, Sandbox, SandboxFile } from '../types';
import type { CaPair } from './ca';
import type { VaultKey } from './crypto';
import type { Egress } from './egress';
// The proxy knows a run by its key's hash, LiteLLM's token hash (not egress-proxy.ts's own copy,
// which would load the TLS code into the control thread).
import { hashToken as keyHash } from '../../admin/common';
import { runScopes, secretsForRun } from './secrets';

export interface VaultDeps {
  pool: pg.Pool;
  key(): VaultKey;
  ca(): Promise<CaPair>;
  egress: Egress;
}

/** Variables that name a file of CA certificates replacing the default ones: they get the whole bundle. */
const BUNDLE_VARS = ['SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'REQUESTS_CA_BUNDLE', 'PIP_CERT', 'AWS_CA_BUNDLE', 'CARGO_HTTP_CAINFO', 'DENO_CERT'];

export function stubFor(name: string): string {
  return `weir-stub-${name.toLowerCase().replace(/_/g, '-')}-${randomBytes(8).toString('hex')}`;
}

/** Replaces every real value in a text (linear in the text per secret; a run has a few). */
export function scrubber(secrets: { name: string; value: string }[]): ((text: string) => string) | undefined {
  // Short values would mask ordinary words; below this a value is still replaced by the proxy, not masked.
  const masked = secrets.filter((s) => s.value.length >= 6);
  if (!masked.length) return undefined;
  // Each value as printed, and as it reads inside a JSON string (the agents' lines are JSON).
  const forms: { text: string; mask: string }[] = [];
  for (const s of masked) {
    forms.push({ text: s.value, mask: `[secret ${s.name}]` });
    const escaped = JSON.stringify(s.value).slice(1, -1);
    if (escaped !== s.value) forms.push({ text: escaped, mask: `[secret ${s.name}]` });
  }
  return (text) => {
    let out = text;
    for (const f of forms) if (out.includes(f.text)) out = out.split(f.text).join(f.mask);
    return out;
  };
}

export async function prepareVault(deps: VaultDeps, run: { id: string; job_name: string | null; team_id: string | null; user_id: string | null }, sandbox: Sandbox, input: HarnessInput): Promise<AgentSetup> {
  const p = input.profile;
  const names = p.secrets ?? [];
  const allow = p.egress?.allow ?? null;
  if (!names.length && !allow) return {};
  const secrets = await secretsForRun(deps.pool, deps.key(), names, runScopes(run));
  const env: Record<string, string> = {};
  const files: SandboxFile[] = [];
  const swaps: { stub: string; value: string; hosts: string[] }[] = [];
  for (const s of secrets) {
    if (s.inject) env[s.name] = s.value;
    else {
      const stub = stubFor(s.name);
      env[s.name] = stub;
      swaps.push({ stub, value: s.value, hosts: s.hosts });
    }
  }
  const ca = await deps.ca();
  const proxyAt = await deps.egress.address();
  const hash = keyHash(input.apiKey);
  await deps.egress.register(hash, { runId: run.id, swaps, allow });
  const release = () => deps.egress.unregister(hash);
  try {
    const base = new URL(input.baseUrl);
    // Under a network boundary the proxy is reached through it (the gateway's base URL already is);
    // otherwise where the sandbox reaches the gateway, on the proxy's own port.
    const at = input.net ? await input.net.reach(proxyAt.host, proxyAt.port) : { host: base.hostname, port: proxyAt.port };
    const proxy = `http://weir:${encodeURIComponent(input.apiKey)}@${at.host.includes(':') && !at.host.startsWith('[') ? `[${at.host}]` : at.host}:${at.port}`;
    const caFile = `${sandbox.home}/.weir/egress-ca.pem`;
    const bundleFile = `${sandbox.home}/.weir/ca-bundle.pem`;
    files.push({ path: caFile, data: ca.certPem }, { path: bundleFile, data: `${tls.rootCertificates.join('\n')}\n${ca.certPem}` });
    for (const v of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) env[v] = proxy;
    // The gateway itself is reached directly (the agent's calls to its models need no proxy).
    env.NO_PROXY = env.no_proxy = base.hostname;
    env.NODE_EXTRA_CA_CERTS = caFile;
    for (const v of BUNDLE_VARS) env[v] = bundleFile;
  } catch (e) {
    release();
    throw e;
  }
  let released = false;
  return {
    env,
    files,
    scrub: scrubber(secrets),
    release: () => {
      if (released) return;
      released = true;
      release();
    },
  };
}
