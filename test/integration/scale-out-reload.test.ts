// A config reload that changes the Redis settings reconnects: the instance closes its link to the
// old Redis, opens one to the new, and takes its leases again there (what it admitted this minute
// is claimed in the new Redis, nothing of the old Redis's grants is spent against it). A reload that
// removes Redis puts the limits back on this instance alone; bad Redis settings refuse the reload.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { MockUpstream } from '../support/mock-upstream';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { adminOk, bearer, call, chat, closeAndCheckLedgers, governanceConfig, ledgerDatabase, MASTER_KEY, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';

let first: RedisServer;
let second: RedisServer;
let mock: MockUpstream;
let weir: Weir;
let base: string;

const withRedis = (port: number | null, extra = '') => (port === null ? base : base.replace('router_settings:\n', `router_settings:\n  redis_host: 127.0.0.1\n  redis_port: ${port}\n${extra}`));

const reload = () => call(weir.url, '/config/reload', { method: 'POST', headers: bearer(MASTER_KEY) });
const readiness = async () => (await call(weir.url, '/health/readiness', { method: 'GET' })).json;
const counted = async (r: RedisServer, token: string) => {
  const fields = (await r.command(['HVALS', `weir:{rpm:key:${token}}:${Math.floor(Date.now() / 60_000)}`])) as string[];
  return fields.reduce((a, v) => a + Number(v), 0);
};

/** Calls of one test stay in one minute (the counts below are per minute). */
async function awayFromMinuteEdge(needMs = 20_000): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 60_000 - needMs) await new Promise((r) => setTimeout(r, 60_000 - into + 200));
}

before(async () => {
  first = await startRedisServer();
  second = await startRedisServer();
  mock = await startMock();
  base = governanceConfig(mock.url, await ledgerDatabase('scale_out_reload'));
  weir = await startWeirOn(writeConfigFile(withRedis(first.port)), { workers: 1 });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close(), () => first?.stop(), () => second?.stop());
});

describe('Redis settings changed by a config reload', () => {
  it('a new redis_port: the instance reconnects there and leases from it, claiming what it admitted this minute', async () => {
    await awayFromMinuteEdge();
    const k = await adminOk(weir.url, '/key/generate', { rpm_limit: 60 });
    for (let i = 0; i < 3; i++) assert.equal((await chat(weir.url, k.key)).status, 200);
    const onFirst = await counted(first, k.token);
    assert.ok(onFirst >= 3, `the first Redis granted ${onFirst}`);
    fs.writeFileSync(weir.configPath, withRedis(second.port));
    assert.equal((await reload()).status, 200);
    await waitFor('the reconnection', () => new RegExp(`scale-out: redis redis://127\\.0\\.0\\.1:${second.port}, instance `).test(weir.output()));
    assert.match(weir.output(), /config reload: the Redis settings changed; reconnecting/);
    await waitFor('readiness to say the new Redis is connected', async () => (await readiness()).redis === 'connected');
    // The old Redis is no longer this instance's: killing it changes nothing here.
    await first.kill();
    for (let i = 0; i < 2; i++) assert.equal((await chat(weir.url, k.key)).status, 200);
    const onSecond = await counted(second, k.token);
    assert.ok(onSecond >= 5 && onSecond <= 60, `the new Redis counts the 5 admitted this minute: ${onSecond}`);
    assert.equal((await readiness()).redis, 'connected');
    await first.restart();
  });

  it('bad Redis settings refuse the reload, as they refuse a start; the instance stays on its Redis', async () => {
    fs.writeFileSync(weir.configPath, withRedis(second.port).replace(`redis_port: ${second.port}`, 'redis_port: 99999'));
    const r = await reload();
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /router_settings\.redis_port: 99999 is not a TCP port/);
    assert.equal((await readiness()).redis, 'connected');
  });

  it('no Redis any more: the limits are this instance\'s own again', async () => {
    await awayFromMinuteEdge();
    fs.writeFileSync(weir.configPath, withRedis(null));
    assert.equal((await reload()).status, 200);
    await waitFor('the line', () => /scale-out: the reloaded config names no Redis/.test(weir.output()));
    await waitFor('readiness to leave Redis out', async () => !('redis' in (await readiness())));
    const k = await adminOk(weir.url, '/key/generate', { rpm_limit: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(weir.url, k.key)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(await counted(second, k.token), 0, 'nothing leased from the old Redis');
  });
});
