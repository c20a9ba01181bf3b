// Where the shared Redis is, read under LiteLLM's names: router_settings first, then the
// environment; TLS from rediss:// or REDIS_SSL; Sentinel and Cluster node lists; bad values stop
// the start with where they came from; what a log line shows never holds the password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisSettings } from '../../src/redis/settings';

test('no Redis named anywhere: null (the instance runs alone)', () => {
  assert.equal(redisSettings({}, {}), null);
});

test('router_settings.redis_host / redis_port / redis_password, as LiteLLM documents them', () => {
  const s = redisSettings({ redis_host: 'cache.internal', redis_port: 6380, redis_password: 'hunter2' }, {})!;
  assert.deepEqual(s.target, { mode: 'single', host: 'cache.internal', port: 6380, db: 0 });
  assert.equal(s.password, 'hunter2');
  assert.equal(s.tls, false);
  assert.ok(!s.shown.includes('hunter2'));
});

test('REDIS_HOST / REDIS_PORT / REDIS_PASSWORD when the config says nothing; the config wins when it does', () => {
  const env = { REDIS_HOST: 'env-host', REDIS_PORT: '7000', REDIS_PASSWORD: 'pw' };
  assert.deepEqual(redisSettings({}, env)!.target, { mode: 'single', host: 'env-host', port: 7000, db: 0 });
  assert.deepEqual(redisSettings({ redis_host: 'cfg-host' }, env)!.target, { mode: 'single', host: 'cfg-host', port: 7000, db: 0 });
});

test('redis_url and REDIS_URL: credentials, database number, and rediss:// for TLS', () => {
  const s = redisSettings({ redis_url: 'rediss://user:s%40cret@r.example.com:6390/2' }, {})!;
  assert.deepEqual(s.target, { mode: 'single', host: 'r.example.com', port: 6390, db: 2 });
  assert.equal(s.username, 'user');
  assert.equal(s.password, 's@cret');
  assert.equal(s.tls, true);
  assert.equal(s.shown, 'rediss://r.example.com:6390/2');
  assert.equal(redisSettings({}, { REDIS_URL: 'redis://localhost' })!.tls, false);
  assert.equal(redisSettings({}, { REDIS_URL: 'redis://localhost', REDIS_SSL: 'True' })!.tls, true);
});

test('Cluster and Sentinel node lists, as JSON or host:port text', () => {
  const c = redisSettings({}, { REDIS_CLUSTER_NODES: '[{"host":"a","port":7000},{"host":"b","port":7001}]' })!;
  assert.deepEqual(c.target, { mode: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }] });
  const s = redisSettings({ redis_sentinel_nodes: ['s1:26379', 's2:26379'], redis_service_name: 'main' }, {})!;
  assert.deepEqual(s.target, { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'main', sentinelPassword: null, db: 0 });
});

test('bad values stop the start, naming where they came from and never the password', () => {
  assert.throws(() => redisSettings({ redis_host: 'h', redis_port: 'x' }, {}), /router_settings\.redis_port: "x" is not a TCP port/);
  assert.throws(() => redisSettings({}, { REDIS_HOST: 'h', REDIS_PORT: '70000' }), /REDIS_PORT/);
  assert.throws(() => redisSettings({ redis_url: 'http://u:topsecret@h' }, {}), (e: Error) => /scheme http: is not redis:/.test(e.message) && !e.message.includes('topsecret'));
  assert.throws(() => redisSettings({}, { REDIS_CLUSTER_NODES: '[{"port":1}]' }), /REDIS_CLUSTER_NODES\[0\]/);
});
