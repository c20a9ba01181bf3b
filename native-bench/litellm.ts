// The Python LiteLLM proxy as a comparator, given the same model list pointed at the same mock.
// Either a proxy the user already runs (--litellm URL: configure it with the file this writes and
// start the bench with the matching --mock-port) or one the bench starts (--litellm-cmd CMD with
// {config} and {port} substituted, e.g.
// "litellm --config {config} --host 127.0.0.1 --port {port} --num_workers 2").
import { Client } from 'undici';
import { writeBenchConfig } from './bench-config';
import { CHAT_PATH, chatSpec, smallChat } from './bodies';
import { freePort, spawnReady, type Child } from './processes';
import { succeeded, timedRequest } from './timed-request';

/** Substitutes {config} and {port} in a user's start command. */
export function expandCommand(cmd: string, vars: { config: string; port: number }): string {
  return cmd.replace(/\{config\}/g, vars.config).replace(/\{port\}/g, String(vars.port));
}

/** Resolves once the proxy answers a real chat call with 200 (LiteLLM boots slowly). */
export async function probe(url: string, key: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  const spec = chatSpec(smallChat(), key);
  for (;;) {
    const c = new Client(url);
    try {
      const t = await timedRequest(c, spec, undefined, 10_000);
      if (succeeded(t)) return;
      last = t.error ?? `HTTP ${t.status} on POST ${CHAT_PATH}`;
    } finally {
      await c.destroy();
    }
    if (Date.now() > deadline) throw new Error(`LiteLLM at ${url} did not answer a chat call: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface LitellmTarget {
  url: string;
  child: Child | null;
  configPath: string;
}

export async function startLitellm(o: { url: string | null; cmd: string | null; key: string; mockUrl: string; dir: string; cpus?: string }): Promise<LitellmTarget> {
  const configPath = writeBenchConfig(o.dir, 'litellm-config.yaml', o.mockUrl, o.key);
  if (o.url) {
    await probe(o.url, o.key, 10_000);
    return { url: o.url, child: null, configPath };
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const cmd = expandCommand(o.cmd!, { config: configPath, port });
  const { child } = await spawnReady('litellm', '/bin/sh', ['-c', cmd], {
    cpus: o.cpus,
    ready: () => probe(url, o.key, 170_000),
    timeoutMs: 180_000,
  });
  return { url, child, configPath };
}
