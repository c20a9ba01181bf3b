// Schema validation of an already-parsed (and env-resolved) config tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, ROUTING_STRATEGIES } from '../../src/config/schema';
import { ConfigError, formatPath } from '../../src/config/errors';

const dep = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model_name: 'm',
  litellm_params: { model: 'openai/gpt-4o', ...params },
  ...extra,
});

/** Asserts validation fails and returns the error for further checks. */
function refuse(data: unknown): ConfigError {
  try {
    validateConfig(data);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected validation to fail');
}

test('absent and null sections default to empty objects and model_list to []', () => {
  for (const input of [{}, { model_list: null, general_settings: null, litellm_settings: null, router_settings: null, environment_variables: null }]) {
    const cfg = validateConfig(input);
    assert.deepEqual(cfg.model_list, []);
    assert.deepEqual(cfg.general_settings, {});
    assert.deepEqual(cfg.litellm_settings, {});
    assert.deepEqual(cfg.router_settings, {});
    assert.deepEqual(cfg.environment_variables, {});
  }
});

test('unknown keys are kept at every level', () => {
  const cfg = validateConfig({
    model_list: [dep({ vertex_project: 'p', nested: { a: [1] } }, { model_info: { id: 'x', mode: 'chat' }, extra: true })],
    general_settings: { proxy_batch_write_at: 60 },
    litellm_settings: { success_callback: ['prometheus'] },
    router_settings: { allowed_fails: 3 },
    credential_list: [{ credential_name: 'c' }],
  });
  const d = cfg.model_list[0]!;
  assert.equal(d.litellm_params.vertex_project, 'p');
  assert.deepEqual(d.litellm_params.nested, { a: [1] });
  assert.equal(d.model_info?.mode, 'chat');
  assert.equal(d.extra, true);
  assert.equal(cfg.general_settings.proxy_batch_write_at, 60);
  assert.deepEqual(cfg.litellm_settings.success_callback, ['prometheus']);
  assert.equal(cfg.router_settings.allowed_fails, 3);
  assert.deepEqual(cfg.credential_list, [{ credential_name: 'c' }]);
});

test('numeric and boolean strings are coerced; model_info.id and header numbers become strings', () => {
  const cfg = validateConfig({
    model_list: [
      dep(
        { timeout: '30', stream_timeout: ' 2.5 ', rpm: '100', tpm: '1e5', weight: '0', order: '1', max_retries: '0', extra_headers: { 'X-V': 2, 'X-B': true } },
        { model_info: { id: 42 } },
      ),
    ],
    general_settings: { max_request_size_mb: '10' },
    litellm_settings: { request_timeout: '600', num_retries: '3', drop_params: 'True' },
    router_settings: { num_retries: '2', timeout: '60', stream_timeout: '5' },
    environment_variables: { PORT: 8080 },
  });
  const p = cfg.model_list[0]!.litellm_params;
  assert.deepEqual(
    [p.timeout, p.stream_timeout, p.rpm, p.tpm, p.weight, p.order, p.max_retries],
    [30, 2.5, 100, 100000, 0, 1, 0],
  );
  assert.deepEqual(p.extra_headers, { 'X-V': '2', 'X-B': 'true' });
  assert.equal(cfg.model_list[0]!.model_info?.id, '42');
  assert.equal(cfg.general_settings.max_request_size_mb, 10);
  assert.deepEqual(cfg.litellm_settings, { request_timeout: 600, num_retries: 3, drop_params: true });
  assert.deepEqual(cfg.router_settings, { num_retries: 2, timeout: 60, stream_timeout: 5 });
  assert.deepEqual(cfg.environment_variables, { PORT: '8080' });
  assert.equal(validateConfig({ litellm_settings: { drop_params: 'false' } }).litellm_settings.drop_params, false);
});

test('null optional fields count as unset and are dropped', () => {
  const cfg = validateConfig({ model_list: [dep({ api_base: null, timeout: null }, { model_info: null })] });
  const d = cfg.model_list[0]!;
  assert.equal('api_base' in d.litellm_params, false);
  assert.equal('timeout' in d.litellm_params, false);
  assert.equal('model_info' in d, false);
});

test('wrong types are refused with the YAML path, expectation and found value', () => {
  const cases: [unknown, string, string][] = [
    [{ model_list: [dep({}), dep({ timeout: 'soon' })] }, 'model_list[1].litellm_params.timeout', 'expected a number greater than 0, got string ("soon")'],
    [{ model_list: [dep({ model: 42 })] }, 'model_list[0].litellm_params.model', 'expected a string, got number (42)'],
    [{ model_list: [dep({ timeout: 0 })] }, 'model_list[0].litellm_params.timeout', 'expected a number greater than 0, got number (0)'],
    [{ model_list: [dep({ rpm: -1 })] }, 'model_list[0].litellm_params.rpm', 'expected a number >= 0, got number (-1)'],
    [{ model_list: [dep({ order: 1.5 })] }, 'model_list[0].litellm_params.order', 'expected an integer >= 0, got number (1.5)'],
    [{ model_list: [dep({ api_key: ['a'] })] }, 'model_list[0].litellm_params.api_key', 'expected a string, got a list'],
    [{ model_list: [dep({ extra_headers: { 'X-A': { b: 1 } } })] }, 'model_list[0].litellm_params.extra_headers.X-A', 'expected a string, got a mapping'],
    [{ model_list: [dep({ extra_headers: 'x' })] }, 'model_list[0].litellm_params.extra_headers', 'expected a mapping of header names to strings, got string (value not shown)'],
    [{ model_list: [dep({}, { model_info: { id: true } })] }, 'model_list[0].model_info.id', 'expected a string, got boolean (true)'],
    [{ model_list: [dep({}), 'oops'] }, 'model_list[1]', 'expected a mapping, got string ("oops")'],
    [{ model_list: { a: 1 } }, 'model_list', 'expected a list of deployments, got a mapping'],
    [{ general_settings: { master_key: 1234 } }, 'general_settings.master_key', 'expected a string, got number (value not shown)'],
    [{ general_settings: [] }, 'general_settings', 'expected a mapping, got a list'],
    [{ litellm_settings: { drop_params: 'maybe' } }, 'litellm_settings.drop_params', 'expected true or false, got string ("maybe")'],
    [{ litellm_settings: { num_retries: -2 } }, 'litellm_settings.num_retries', 'expected an integer >= 0, got number (-2)'],
    [{ router_settings: { timeout: 'NaN' } }, 'router_settings.timeout', 'expected a number greater than 0, got string ("NaN")'],
    [{ environment_variables: { A: { b: 1 } } }, 'environment_variables.A', 'expected a string, got a mapping'],
  ];
  for (const [input, path, detail] of cases) {
    const err = refuse(input);
    assert.equal(err.path, path);
    assert.equal(err.message, `config: ${path}: ${detail}`);
  }
});

test('missing model_name and missing litellm_params.model are named', () => {
  let err = refuse({ model_list: [{ litellm_params: { model: 'openai/x' } }] });
  assert.equal(err.message, 'config: model_list[0].model_name: expected a string, but it is missing');
  err = refuse({ model_list: [{ model_name: '', litellm_params: { model: 'openai/x' } }] });
  assert.equal(err.message, 'config: model_list[0].model_name: expected a non-empty string, got string ("")');
  err = refuse({ model_list: [dep({}), { model_name: 'b', litellm_params: { api_key: 'k' } }] });
  assert.equal(err.path, 'model_list[1].litellm_params.model');
  assert.match(err.message, /expected a string, but it is missing/);
  err = refuse({ model_list: [{ model_name: 'c' }] });
  assert.equal(err.message, 'config: model_list[0].litellm_params: expected a mapping, but it is missing');
});

test('bad routing_strategy lists the accepted values; every accepted value passes', () => {
  const err = refuse({ router_settings: { routing_strategy: 'round-robin' } });
  assert.equal(err.path, 'router_settings.routing_strategy');
  assert.equal(
    err.message,
    'config: router_settings.routing_strategy: expected one of simple-shuffle, least-busy, usage-based-routing, ' +
      'usage-based-routing-v2, latency-based-routing, cost-based-routing, got string ("round-robin")',
  );
  for (const s of ROUTING_STRATEGIES) {
    assert.equal(validateConfig({ router_settings: { routing_strategy: s } }).router_settings.routing_strategy, s);
  }
});

test('several problems are listed (up to 5) and counted beyond that', () => {
  const err = refuse({ model_list: Array.from({ length: 7 }, (_, i) => dep({ rpm: -i - 1 })) });
  assert.equal(err.issues.length, 7);
  assert.equal(err.path, 'model_list[0].litellm_params.rpm');
  assert.match(err.message, /model_list\[4\]\.litellm_params\.rpm: expected a number >= 0, got number \(-5\) \(and 2 more problems\)$/);
  assert.doesNotMatch(err.message, /model_list\[5\]/);
  assert.doesNotMatch(err.message, /\n/);
});

test('values that came from os.environ are not echoed in errors', () => {
  const data = { model_list: [dep({ timeout: 'sk-secret' })] };
  assert.throws(
    () => validateConfig(data, { envRefs: new Map([['model_list[0].litellm_params.timeout', 'TIMEOUT']]) }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'config: model_list[0].litellm_params.timeout: expected a number greater than 0, got string from os.environ/TIMEOUT (value not shown)',
  );
});

test('formatPath joins indices with [i] and keys with dots, quoting odd keys', () => {
  assert.equal(formatPath(['model_list', 2, 'litellm_params', 'timeout']), 'model_list[2].litellm_params.timeout');
  assert.equal(formatPath(['a', 'b.c', 'X-Api-Key']), 'a["b.c"].X-Api-Key');
  assert.equal(formatPath([]), '');
});

test('litellm_settings.max_budget past 1e9 USD stops the load with its path (the global budget lives in the same int64 nano-dollar counters)', () => {
  for (const v of [1e308, 1e10, '1e12']) {
    const err = refuse({ litellm_settings: { max_budget: v } });
    assert.match(err.message, /^config: litellm_settings\.max_budget: expected a number >= 0 and at most 1e9 \(USD\), got /);
  }
  assert.equal(validateConfig({ litellm_settings: { max_budget: 1e9 } }).litellm_settings.max_budget, 1e9);
  assert.equal(validateConfig({ litellm_settings: { max_budget: 0 } }).litellm_settings.max_budget, 0);
});
