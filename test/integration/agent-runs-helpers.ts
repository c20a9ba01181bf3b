// What the agent-run tests share: a Weir config with agent_settings over the governance test config
// (its `gpt` model costs CALL_COST per call on the mock), starting runs through the API, waiting
// for a run to end (polling its state, never sleeping for a fixed time), and reading its events.
import assert from 'node:assert/strict';
import { ensureBubblewrap } from '../support/bubblewrap';
import { MASTER_KEY, bearer, call, governanceConfig, waitFor, type Answer } from './governance-helpers';

export const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'canceled', 'expired', 'skipped']);

/** A profile of the `command` agent running `script` with sh in the local sandbox. */
export function scriptProfile(name: string, script: string, extra: Record<string, unknown> = {}): string {
  const fields = { name, agent: 'command', sandbox: 'dev', model: 'gpt', timeout: '120s', command: ['sh', '-c', script], ...extra };
  return `    - ${JSON.stringify(fields)}\n`;
}

/** The governance config plus agent_settings with a `dev` local sandbox and the given profiles/jobs. */
export function agentConfig(mockUrl: string, dbUrl: string, o: { profiles: string; jobs?: string; settings?: string; sandboxes?: string }): string {
  // The sandbox the gateway picks is bwrap where it can be had (else a host user: the tests hold for both).
  ensureBubblewrap();
  return `${governanceConfig(mockUrl, dbUrl)}
agent_settings:
${o.settings ?? ''}
  sandboxes:
${o.sandboxes ?? '    - {name: dev, provider: local}\n'}  profiles:
${o.profiles}
  jobs:
${o.jobs ?? '    []\n'}
`;
}

/** A chat call from inside a run, with its key (the `command` harness gives OPENAI_*). */
export const CURL_CHAT = `curl -sS -H "authorization: Bearer $OPENAI_API_KEY" -H 'content-type: application/json' -d "{\\"model\\":\\"$WEIR_MODEL\\",\\"max_tokens\\":4,\\"messages\\":[{\\"role\\":\\"user\\",\\"content\\":\\"hi\\"}]}" "$OPENAI_BASE_URL/chat/completions"; echo`;

/** Polls the agents' stats until the local sandbox `sandbox` has `n` pooled sandboxes ready (60 s at most). */
export async function localPoolReady(base: string, sandbox: string, n = 1): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await call(base, '/v1/agent/stats', { headers: bearer(MASTER_KEY), method: 'GET' });
    if (r.json?.local_pools?.[sandbox] >= n) return;
    if (Date.now() > end) throw new Error(`the warm pool of ${sandbox} did not fill: ${r.text}`);
    await new Promise((x) => setTimeout(x, 50));
  }
}

/** Waits on a file that never appears: a run that only a cancel, a timeout or a crash ends. */
export const WAIT_FOREVER = `echo waiting; while [ ! -e /nonexistent-weir-file ]; do sleep 0.1; done`;

export async function startRun(base: string, body: unknown, key = MASTER_KEY, headers: Record<string, string> = {}): Promise<Answer> {
  return call(base, '/v1/agent/runs', { headers: { ...bearer(key), ...headers }, body });
}

export async function mustStart(base: string, body: unknown, key = MASTER_KEY): Promise<any> {
  const r = await startRun(base, body, key);
  assert.equal(r.status, 202, r.text);
  return r.json;
}

export async function getRun(base: string, id: string, key = MASTER_KEY): Promise<any> {
  const r = await call(base, `/v1/agent/runs/${id}`, { headers: bearer(key), method: 'GET' });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** Polls the run until it is in `status` (or, without one, in any final state). */
export async function waitRun(base: string, id: string, status?: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(`run ${id} ${status ?? 'to end'}`, async () => {
    const r = await getRun(base, id);
    if (status ? r.status === status : FINAL.has(r.status)) return r;
    return null;
  }, timeoutMs, 50);
}

export async function events(base: string, id: string, key = MASTER_KEY, after = 0): Promise<any[]> {
  const r = await call(base, `/v1/agent/runs/${id}/events?after=${after}&limit=5000`, { headers: bearer(key), method: 'GET' });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

/** Every text the agent printed (stdout lines and JSON lines alike), one string. */
export function printed(evs: any[]): string {
  return evs.filter((e) => e.type !== 'status').map((e) => JSON.stringify(e.payload)).join('\n');
}

export function statuses(evs: any[]): string[] {
  return evs.filter((e) => e.type === 'status').map((e) => e.payload.status);
}
