// The gateway's threads scavenge without V8's helper tasks (src/control/scavenge-flag.ts): every
// scavenge the real gateway runs, on its control thread and in its workers, as V8 traces it
// (--trace-gc-nvp: one line per collection, with the time helper tasks spent), had none. A
// worker's start alone scavenges several times (it loads the gateway's modules), and the chat
// calls add more; the flag is set before any of that.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnGateway } from '../support/gateway-process';
import { call } from '../support/http';
import { startMockUpstream } from '../support/mock-upstream';

const scavenges = (out: string) => out.split('\n').filter((l) => l.includes('gc=s '));

test('every scavenge of the gateway, control thread and workers, runs without helper tasks', async (t) => {
  const mock = await startMockUpstream();
  t.after(() => mock.close());
  const gw = spawnGateway({
    config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/m, api_base: "${mock.url}/v1", api_key: k }\ngeneral_settings: { master_key: sk-scavenge }\n`,
    workers: 2,
    nodeArgs: ['--trace-gc-nvp'],
  });
  t.after(() => gw.stop());
  await gw.ready;
  for (let i = 0; i < 20; i++) {
    const r = await call(gw.url, '/v1/chat/completions', { headers: { authorization: 'Bearer sk-scavenge' }, body: { model: 'm', messages: [{ role: 'user', content: `hi ${i}` }] } });
    assert.equal(r.status, 200, r.text);
  }
  const lines = scavenges(gw.output());
  const isolates = new Set(lines.map((l) => /\[\d+:(0x[0-9a-f]+)\]/.exec(l)?.[1]));
  assert.ok(isolates.size >= 3, `scavenges traced on the control thread and both workers: ${isolates.size} isolates in\n${lines.join('\n')}`);
  for (const l of lines) assert.match(l, /background\.scavenge\.parallel=0\.00 /, `a scavenge with helper tasks:\n${l}`);
});
