// model-list.ts: /v1/models and /model/info for a caller. The master key gets the snapshot's
// prebuilt bodies; a key gets only the models it may call, built once per (snapshot, lists).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load';
import { buildSnapshot } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import { MASTER, OPEN, type Identity } from '../../src/gateway/identity';
import { modelInfoBody, modelsBody } from '../../src/gateway/model-list';
import type { KeyProfile } from '../../src/gateway/governance';
import { keyProfile } from '../support/key-profile';

const snap = (version = 1) =>
  buildSnapshot(
    parseConfigText(
      `model_list:
  - { model_name: a, litellm_params: { model: mock/a } }
  - { model_name: b, litellm_params: { model: mock/b }, model_info: { access_groups: [grp] } }
  - { model_name: b, litellm_params: { model: mock/b2 } }
  - { model_name: c-1, litellm_params: { model: mock/c } }
  - { model_name: "w/*", litellm_params: { model: "mock/*" } }
`,
      { baseDir: __dirname, env: {} },
    ),
    { version, detailedDebug: false, env: {}, slots: new SlotTable(64) },
  );

const key = (over: Partial<KeyProfile>): Identity => ({ kind: 'key', profile: keyProfile(0, over), hash: Buffer.alloc(32) });
const ids = (body: string) => (JSON.parse(body) as { data: { id: string }[] }).data.map((m) => m.id);
const infoNames = (body: string) => (JSON.parse(body) as { data: { model_name: string }[] }).data.map((m) => m.model_name);

test('the master key, an open proxy and an unrestricted key get the prebuilt bodies', () => {
  const s = snap();
  for (const who of [MASTER, OPEN, key({})]) {
    assert.equal(modelsBody(s, who), s.modelsBody);
    assert.equal(modelInfoBody(s, who), s.modelInfoBody);
  }
  assert.deepEqual(ids(s.modelsBody), ['a', 'b', 'c-1', 'w/*']);
});

test('a key sees its own models, its access groups and wildcard entries, in the snapshot order', () => {
  const s = snap();
  const who = key({ models: ['c-*', 'grp', 'w/*'] });
  assert.deepEqual(ids(modelsBody(s, who)), ['b', 'c-1', 'w/*']);
  assert.deepEqual(infoNames(modelInfoBody(s, who)), ['b', 'b', 'c-1', 'w/*']);
  assert.deepEqual(JSON.parse(modelsBody(s, key({ models: ['nothing-here'] }))), { object: 'list', data: [] });
});

test('a team key: the team list narrows the key list; all-team-models is the team list', () => {
  const s = snap();
  const team = { teamRecord: 3, teamModels: ['a', 'b'] };
  assert.deepEqual(ids(modelsBody(s, key({ ...team }))), ['a', 'b']);
  assert.deepEqual(ids(modelsBody(s, key({ ...team, models: ['b', 'c-1'] }))), ['b']);
  assert.deepEqual(ids(modelsBody(s, key({ ...team, models: ['all-team-models'] }))), ['a', 'b']);
});

test('keys with the same lists share one body per snapshot; a new snapshot builds afresh', () => {
  const s1 = snap(1);
  const one = modelsBody(s1, key({ models: ['a'] }));
  assert.equal(modelsBody(s1, key({ models: ['a'] })), one);
  const s2 = snap(2);
  assert.deepEqual(ids(modelsBody(s2, key({ models: ['a'] }))), ['a']);
});
