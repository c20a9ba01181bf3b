// What the control thread loads for a config: without a database there are no keys to govern and
// no agent runs, so the admin API, pg, the spend writer and the agents' modules (360 modules, some
// 10 MB of heap) are not loaded; with one they are. The real gateway, stopped with SIGTERM, prints
// its modules as it exits (support/module-list-preload.ts). The SIGTERM goes as soon as the gateway
// says it listens, and it must still shut down cleanly: its handler once came a few lines later,
// and a signal in between killed it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { spawnGateway } from '../support/gateway-process';
import { MODULES_LINE } from '../support/module-list-preload';
import { freshDatabase } from '../support/postgres';

const PRELOAD = path.join(__dirname, '..', 'support', 'module-list-preload.js');

async function controlModules(general: string): Promise<string[]> {
  const gw = spawnGateway({
    config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/m, api_base: "http://127.0.0.1:9/v1", api_key: k }\ngeneral_settings: { master_key: sk-modules${general} }\n`,
    workers: 1,
    env: { NODE_OPTIONS: `--require ${PRELOAD}`, WEIR_TEST_MODULE_LIST: '1' },
  });
  await gw.ready;
  const end = await gw.stop('SIGTERM');
  assert.equal(end.code, 0, gw.output());
  const line = gw.output().split('\n').find((l) => l.startsWith(MODULES_LINE));
  assert.ok(line, `the module list was printed:\n${gw.output()}`);
  return JSON.parse(line.slice(MODULES_LINE.length)) as string[];
}

const has = (mods: string[], tail: string) => mods.some((m) => m.endsWith(path.join(...tail.split('/'))));
const pg = (mods: string[]) => mods.some((m) => m.includes(`${path.sep}node_modules${path.sep}pg${path.sep}`));

test('without a database the control thread loads neither the admin API, pg, the spend writer nor the agents', async () => {
  const mods = await controlModules('');
  assert.ok(has(mods, 'control/boot.js'), 'the list is the control thread\'s');
  for (const m of ['control/governance.js', 'admin/router.js', 'db/spend-writer.js', 'agents/runtime.js']) assert.ok(!has(mods, m), `${m} was loaded`);
  assert.ok(!pg(mods), 'pg was loaded');
});

test('with a database it loads them', async () => {
  const db = await freshDatabase('control_modules');
  const mods = await controlModules(`, database_url: "${db}"`);
  for (const m of ['control/governance.js', 'admin/router.js', 'db/spend-writer.js', 'agents/runtime.js']) assert.ok(has(mods, m), `${m} was not loaded`);
  assert.ok(pg(mods), 'pg was not loaded');
});
