// Start-up of the real gateway process: the start lines, worker counts, configuration from flags
// and from the environment, the CLI's own answers (--help, --version, bad flags) and the ways a
// bad config stops it before it serves anything.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { writeConfig } from '../support/gateway-process';
import {
  call, chat, config, countMatches, freePort, kill, MASTER_KEY, runCli, spawnRaw, startMock, startWeir,
} from './lifecycle-helpers';

const VERSION = (JSON.parse(fs.readFileSync(require.resolve('../../../package.json'), 'utf8')) as { version: string }).version;
/** The engine line under uWS names the npm build that loaded, e.g. `uWebSockets.js (@trufflesuite/uws-js-unofficial)`. */
const UWS_LINE = /http engine: uWebSockets\.js \((?:@[\w.-]+\/)?[\w.-]+\)/;

describe('start-up', { concurrency: 3 }, () => {
  test('start lines: address, uWS build, 2 workers, models, auth; the gateway serves', async (t) => {
    const mock = await startMock(t);
    const gw = await startWeir(t, {
      config: config({ alpha: mock.url + '/v1', beta: mock.url + '/v1' }, `general_settings:\n  master_key: ${MASTER_KEY}\n`),
      workers: 2,
    });
    const out = gw.output();
    assert.match(out, new RegExp(`weir ${VERSION.replace(/\./g, '\\.')} listening on http://127\\.0\\.0\\.1:${gw.port} \\(bound to 127\\.0\\.0\\.1\\)`));
    assert.match(out, UWS_LINE);
    assert.match(out, /http engine: .*2 worker threads/);
    assert.match(out, /\bworkers: 2\n/);
    assert.match(out, /models: alpha → openai\/alpha-upstream, beta → openai\/beta-upstream\n/);
    assert.match(out, /auth: master key required\n/);
    assert.match(out, new RegExp(`config: ${gw.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    const r = await chat(gw.url, 'alpha');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Hello from mock');
    assert.equal(mock.requests.at(-1)!.json.model, 'alpha-upstream');
  });

  test('an unset os.environ/ variable the proxy goes on without (a guardrail key, router redis) starts, serves, and the start line names it', async (t) => {
    const mock = await startMock(t);
    const extra = `router_settings:\n  redis_host: os.environ/WEIR_STARTUP_UNSET_REDIS\nguardrails:\n  - guardrail_name: g\n    litellm_params: {guardrail: lakera, mode: pre_call, api_key: os.environ/WEIR_STARTUP_UNSET_GUARD}\n`;
    const gw = await startWeir(t, {
      config: config({ alpha: mock.url + '/v1' }, extra),
      workers: 1,
      env: { WEIR_STARTUP_UNSET_REDIS: undefined, WEIR_STARTUP_UNSET_GUARD: undefined },
    });
    assert.match(
      gw.output(),
      /config: not set, so left empty as LiteLLM leaves them: router_settings\.redis_host \(os\.environ\/WEIR_STARTUP_UNSET_REDIS\), guardrails\[0\]\.litellm_params\.api_key \(os\.environ\/WEIR_STARTUP_UNSET_GUARD\)\n/,
    );
    const r = await chat(gw.url, 'alpha', { key: null });
    assert.equal(r.status, 200, r.text);
  });

  test('--num_workers 1 and 3 (uWS): start lines say so and every request is served', async (t) => {
    const mock = await startMock(t);
    await Promise.all([1, 3].map(async (n) => {
      const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }), workers: n });
      assert.match(gw.output(), UWS_LINE);
      assert.match(gw.output(), new RegExp(`http engine: .*, ${n} worker threads? sharing the port`));
      assert.match(gw.output(), new RegExp(`\\bworkers: ${n}\\n`));
      assert.match(gw.output(), /auth: none/);
      // Fresh connections so the kernel spreads them over the workers.
      const answers = await Promise.all(Array.from({ length: 24 }, () => chat(gw.url, 'alpha', { key: null })));
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
      const stopped = await gw.stop('SIGTERM');
      assert.ok(stopped.code === 0 || stopped.signal === 'SIGTERM', JSON.stringify(stopped));
    }));
  });

  test('WEIR_HTTP_ENGINE=node: node:http on one worker thread (Node 20 has no reusePort)', async (t) => {
    const mock = await startMock(t);
    const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }), workers: 3, engine: 'node' });
    assert.match(gw.output(), /http engine: node:http \(WEIR_HTTP_ENGINE=node\), one worker thread \(this Node has no reusePort\)/);
    assert.match(gw.output(), /\bworkers: 1\n/);
    assert.doesNotMatch(gw.output(), /uWebSockets/);
    const r = await chat(gw.url, 'alpha', { key: null });
    assert.equal(r.status, 200, r.text);
  });

  test('PORT, CONFIG_FILE_PATH and LITELLM_MASTER_KEY from the environment; the env master key is enforced', async (t) => {
    const mock = await startMock(t);
    const port = await freePort();
    const file = writeConfig(config({ alpha: mock.url + '/v1' }));
    const gw = spawnRaw(t, ['--num_workers', '2'], { PORT: String(port), CONFIG_FILE_PATH: file, LITELLM_MASTER_KEY: MASTER_KEY, HOST: '127.0.0.1' });
    await gw.waitForOutput(/auth: /);
    assert.match(gw.output(), new RegExp(`listening on http://127\\.0\\.0\\.1:${port} `));
    assert.match(gw.output(), new RegExp(`config: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    assert.match(gw.output(), /auth: master key required/);
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await chat(base, 'alpha', { key: null })).status, 401);
    assert.equal((await chat(base, 'alpha', { key: 'sk-not-the-master' })).status, 401);
    assert.equal((await call(base, '/v1/models', { headers: { authorization: 'Bearer nope' } })).status, 401);
    const ok = await chat(base, 'alpha');
    assert.equal(ok.status, 200, ok.text);
    // Public routes stay public.
    assert.equal((await call(base, '/health/liveliness')).status, 200);
    await kill(gw);
  });

  test('an unknown top-level key (and unknown nested keys) are accepted', async (t) => {
    const mock = await startMock(t);
    const gw = await startWeir(t, {
      config: config({ alpha: mock.url + '/v1' }, 'litellm_settings:\n  success_callback: [langfuse]\n  some_future_flag: 3\nweir_future_section:\n  anything: [1, 2]\nguardrails: []\n'),
      workers: 1,
    });
    assert.equal((await chat(gw.url, 'alpha', { key: null })).status, 200);
  });

  test('--help, --version and an unknown flag', async () => {
    const [help, version, unknown, noConfig, zeroWorkers, badPort, badEnvPort] = await Promise.all([
      runCli(['--help']),
      runCli(['--version']),
      runCli(['--config', 'x.yaml', '--frobnicate']),
      runCli([], { CONFIG_FILE_PATH: undefined }),
      runCli(['--config', 'x.yaml', '--num_workers', '0']),
      runCli(['--config', 'x.yaml', '--port', 'http']),
      runCli(['--config', 'x.yaml'], { PORT: 'eighty' }),
    ]);
    for (const [r, re] of [[zeroWorkers, /--num_workers needs an integer >= 1, got 0/], [badPort, /--port needs an integer >= 0, got http/], [badEnvPort, /PORT needs an integer >= 0, got eighty/]] as const) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /usage: weir/);
    }
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: weir --config PATH/);
    for (const flag of ['--config', '--port', '--host', '--num_workers', '--detailed_debug', '--version']) assert.ok(help.stdout.includes(flag), flag);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `weir ${VERSION}\n`);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown argument --frobnicate/);
    assert.match(unknown.stderr, /usage: weir --config PATH/);
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /no config: pass --config PATH or set CONFIG_FILE_PATH/);
  });

  test('bad configs stop the start with exit 1: wrong type (YAML path), missing env var (its name), missing file', async () => {
    const wrongType = writeConfig('model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      api_base: http://127.0.0.1:9/v1\n      timeout: soon\n');
    const missingEnv = writeConfig('model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      api_key: sk-x\ngeneral_settings:\n  master_key: os.environ/WEIR_LIFECYCLE_UNSET_VAR\n');
    const nowhere = '/nonexistent/weir-lifecycle/config.yaml';
    const env = { WEIR_LIFECYCLE_UNSET_VAR: undefined };
    const [a, b, c] = await Promise.all([
      runCli(['--config', wrongType, '--port', '0'], env),
      runCli(['--config', missingEnv, '--port', '0'], env),
      runCli(['--config', nowhere, '--port', '0'], env),
    ]);
    assert.equal(a.code, 1, a.stderr);
    assert.match(a.stderr, /weir: cannot start: config: model_list\[0\]\.litellm_params\.timeout: expected a number greater than 0, got string \("soon"\)/);
    assert.equal(b.code, 1, b.stderr);
    assert.match(b.stderr, /general_settings\.master_key: environment variable WEIR_LIFECYCLE_UNSET_VAR is not set/);
    assert.equal(c.code, 1, c.stderr);
    assert.match(c.stderr, /cannot start: .*cannot read \/nonexistent\/weir-lifecycle\/config\.yaml \(ENOENT\)/);
    for (const r of [a, b, c]) {
      assert.equal(r.stdout, '', 'nothing is printed as if it had started');
      assert.equal(countMatches(r.stderr, /\n/g), 1, `one line on stderr:\n${r.stderr}`);
    }
  });
});

test('--port 0 with 2 uWS workers picks one free port that both workers share', async (t) => {
  const file = writeConfig('model_list: []\n');
  const gw = spawnRaw(t, ['--config', file, '--port', '0', '--host', '127.0.0.1', '--num_workers', '2'], {});
  await gw.waitForOutput(/auth: /);
  const port = Number(gw.output().match(/listening on http:\/\/[^:]+:(\d+)/)![1]);
  assert.ok(port > 0);
  assert.match(gw.output(), /2 worker threads sharing the port/);
  const answers = await Promise.all(Array.from({ length: 16 }, () => call(`http://127.0.0.1:${port}`, '/health/liveliness')));
  assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
  await kill(gw);
});

test(
  'a second gateway on a port another gateway already serves refuses to start',
  async (t) => {
    const first = await startWeir(t, { config: 'model_list: []\n', workers: 1 });
    const second = spawnRaw(t, ['--config', first.configPath, '--port', String(first.port), '--host', '127.0.0.1', '--num_workers', '1'], {});
    const outcome = await Promise.race([second.exited, second.waitForOutput(/listening on/, 15_000).then(() => 'started' as const)]);
    assert.notEqual(outcome, 'started', `a second gateway started on port ${first.port}:\n${second.output()}`);
    assert.equal((outcome as { code: number | null }).code, 1, second.output());
    assert.match(second.output(), /cannot listen|in use/);
  },
);
