// Loading config.yaml files: YAML, include, environment_variables, os.environ/ and validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, parseConfigText, describeConfigError, ConfigError, EmptyConfigError } from '../../src/config/load';

// Tests run from dist/test/unit/, fixtures stay in the source tree.
const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/config');
const fixture = (name: string) => path.join(FIXTURES, name);

const REALISTIC_ENV = {
  OPENAI_API_KEY: 'sk-openai',
  AZURE_API_BASE: 'https://example.openai.azure.com',
  AZURE_API_KEY: 'az-key',
  ANTHROPIC_API_KEY: 'sk-ant',
  LITELLM_MASTER_KEY: 'sk-master',
};

const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseConfigText(text, { baseDir: FIXTURES, env });

/** Runs fn, asserts it throws a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('loads a realistic LiteLLM config with several providers', () => {
  const cfg = loadConfigFile(fixture('realistic.yaml'), REALISTIC_ENV);
  assert.deepEqual(
    cfg.model_list.map((d) => [d.model_name, d.litellm_params.model]),
    [
      ['gpt-4o', 'openai/gpt-4o'],
      ['gpt-4o', 'azure/gpt-4o-prod'],
      ['claude-sonnet', 'anthropic/claude-sonnet-4-5'],
      ['qwen-coder', 'hosted_vllm/Qwen/Qwen2.5-Coder-32B-Instruct'],
      ['mock', 'mock/echo'],
    ],
  );
  const [openai, azure, anthropic, vllm, mock] = cfg.model_list;
  assert.equal(openai!.litellm_params.api_key, 'sk-openai');
  assert.equal(openai!.litellm_params.organization, 'org-123');
  assert.deepEqual(openai!.model_info, { id: 'openai-gpt-4o', mode: 'chat', access_groups: ['default'] });
  assert.equal(azure!.litellm_params.api_base, 'https://example.openai.azure.com');
  assert.equal(azure!.litellm_params.api_version, '2024-10-21', 'unquoted date stays a string');
  assert.equal(azure!.model_info?.id, '17');
  assert.deepEqual([azure!.litellm_params.timeout, azure!.litellm_params.stream_timeout, azure!.litellm_params.weight], [30, 5, 2]);
  assert.deepEqual(anthropic!.litellm_params.extra_headers, { 'anthropic-beta': 'prompt-caching-2024-07-31', 'X-Trace': '1' });
  assert.equal(vllm!.litellm_params.api_base, 'http://vllm.internal:8000/v1');
  assert.equal(mock!.deployment_note, 'unknown deployment-level key');
  assert.equal(cfg.general_settings.master_key, 'sk-master');
  assert.equal(cfg.general_settings.proxy_batch_write_at, 60);
  assert.deepEqual(cfg.litellm_settings, { drop_params: true, num_retries: 3, request_timeout: 600, success_callback: ['prometheus'], cache: false });
  assert.equal(cfg.router_settings.routing_strategy, 'simple-shuffle');
  // redis_host was os.environ/REDIS_HOST, fed by environment_variables in the same file.
  assert.equal(cfg.router_settings.redis_host, 'redis.internal');
  assert.deepEqual(cfg.environment_variables, { REDIS_HOST: 'redis.internal', SOME_PORT: '6379' });
  assert.equal('include' in cfg, false);
  assert.ok(Array.isArray(cfg.credential_list));
});

test('os.environ/ is resolved at any depth and inside lists; other strings are untouched', () => {
  const cfg = parse(
    `model_list:
  - model_name: a
    litellm_params:
      model: os.environ/MODEL
      deep: {deeper: [x, os.environ/IN_LIST, {k: os.environ/IN_LIST_MAP}]}
      note: "not os.environ/X at the start"
litellm_settings:
  fallbacks: [{a: [os.environ/FALLBACK]}]
`,
    { MODEL: 'openai/gpt-4o', IN_LIST: 'v1', IN_LIST_MAP: 'v2', FALLBACK: 'b' },
  );
  const p = cfg.model_list[0]!.litellm_params;
  assert.equal(p.model, 'openai/gpt-4o');
  assert.deepEqual(p.deep, { deeper: ['x', 'v1', { k: 'v2' }] });
  assert.equal(p.note, 'not os.environ/X at the start');
  assert.deepEqual(cfg.litellm_settings.fallbacks, [{ a: ['b'] }]);
});

test('numeric env values are coerced for numeric fields', () => {
  const cfg = parse(
    `model_list: [{model_name: a, litellm_params: {model: openai/a, timeout: os.environ/TIMEOUT, rpm: os.environ/RPM}}]
litellm_settings: {drop_params: os.environ/DROP}`,
    { TIMEOUT: '45', RPM: '0', DROP: 'true' },
  );
  assert.equal(cfg.model_list[0]!.litellm_params.timeout, 45);
  assert.equal(cfg.model_list[0]!.litellm_params.rpm, 0);
  assert.equal(cfg.litellm_settings.drop_params, true);
});

test('a missing env var the whole proxy needs is named with its path; one under a deployment is recorded, not fatal', () => {
  const err = configError(() =>
    parse(
      `model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_key: os.environ/SET}
  - model_name: b
    litellm_params: {model: openai/b, api_key: os.environ/OPENAI_API_KEY}
general_settings: {master_key: os.environ/LITELLM_MASTER_KEY, database_url: os.environ/DATABASE_URL}`,
      { SET: 'x' },
    ),
  );
  assert.equal(err.path, 'general_settings.master_key');
  assert.equal(err.issues[0]!.detail, 'environment variable LITELLM_MASTER_KEY is not set (referenced as os.environ/LITELLM_MASTER_KEY)');
  // All unset variables the proxy needs are reported at once; the deployment's is not one of them.
  assert.deepEqual(err.issues.map((i) => i.path), ['general_settings.master_key', 'general_settings.database_url']);
  assert.match(err.message, /^config: general_settings\.master_key: environment variable LITELLM_MASTER_KEY is not set/);

  // The same deployment alone: it loads, and the loader says which variable it lacks.
  const cfg = parse(
    `model_list:
  - model_name: b
    litellm_params: {model: openai/b, api_key: os.environ/OPENAI_API_KEY, api_base: os.environ/MY_BASE}`,
    { MY_BASE: 'https://llm.example.com/v1' },
  );
  assert.equal(cfg.model_list[0]!.litellm_params.api_key, undefined);
  assert.deepEqual(cfg.deployment_env, { 0: { unset: [{ path: 'litellm_params.api_key', name: 'OPENAI_API_KEY' }], apiBaseVar: 'MY_BASE' } });
  // Its model is the exception: without it the deployment is not known at all.
  const noModel = configError(() => parse('model_list:\n  - model_name: c\n    litellm_params: {model: os.environ/NO_MODEL}', {}));
  assert.equal(noModel.path, 'model_list[0].litellm_params.model');
});

test('an unset variable where LiteLLM goes on with None (guardrails, callbacks, caches, router redis) loads empty and is named', () => {
  // As in LiteLLM's docs: each of these stopped the start, while LiteLLM starts without the value.
  const cfg = parse(
    `model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_key: k}
router_settings: {redis_host: os.environ/REDIS_HOST, routing_strategy: simple-shuffle}
litellm_settings:
  cache_params: {type: redis, password: os.environ/REDIS_PASSWORD}
  max_end_user_budget_id: os.environ/END_USER_BUDGET
guardrails:
  - guardrail_name: g
    litellm_params: {guardrail: lakera, mode: pre_call, api_key: os.environ/LAKERA_API_KEY}
general_settings:
  master_key: sk-1
  alert_to_webhook_url: {llm_exceptions: [os.environ/SLACK_WEBHOOK_URL]}`,
    {},
  );
  assert.equal(cfg.router_settings.redis_host, undefined);
  assert.equal(cfg.router_settings.routing_strategy, 'simple-shuffle');
  assert.deepEqual(cfg.litellm_settings.cache_params, { type: 'redis', password: undefined });
  assert.equal(cfg.litellm_settings.max_end_user_budget_id, undefined);
  assert.equal((cfg.guardrails as any)[0].litellm_params.api_key, undefined);
  assert.deepEqual(cfg.unset_env, [
    { path: 'router_settings.redis_host', name: 'REDIS_HOST' },
    { path: 'litellm_settings.cache_params.password', name: 'REDIS_PASSWORD' },
    { path: 'litellm_settings.max_end_user_budget_id', name: 'END_USER_BUDGET' },
    { path: 'guardrails[0].litellm_params.api_key', name: 'LAKERA_API_KEY' },
    { path: 'general_settings.alert_to_webhook_url.llm_exceptions[0]', name: 'SLACK_WEBHOOK_URL' },
  ]);
  // What the whole proxy needs still stops the start, and so does Weir's own agent_settings.
  assert.equal(configError(() => parse('general_settings: {master_key: os.environ/MK}')).path, 'general_settings.master_key');
  assert.equal(configError(() => parse('general_settings: {database_url: os.environ/DB}')).path, 'general_settings.database_url');
  assert.match(configError(() => parse('agent_settings: {public_url: os.environ/PUBLIC_URL}')).message, /agent_settings\.public_url: environment variable PUBLIC_URL is not set/);
  // A reference with no name is a typo, wherever it is.
  assert.match(configError(() => parse('router_settings: {redis_host: os.environ/}')).message, /has no variable name/);
  // A config with every variable set carries no list.
  assert.equal(parse('router_settings: {redis_host: os.environ/H}', { H: 'h' }).unset_env, undefined);
});

test('environment_variables feed os.environ/ resolution without touching the caller env', () => {
  const env: NodeJS.ProcessEnv = { BASE: 'https://from-env' };
  const cfg = parse(
    `environment_variables:
  API_BASE: os.environ/BASE
  PORT: 8080
  FLAG: true
model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_base: os.environ/API_BASE, port: os.environ/PORT}
`,
    env,
  );
  assert.equal(cfg.model_list[0]!.litellm_params.api_base, 'https://from-env');
  assert.equal(cfg.model_list[0]!.litellm_params.port, '8080');
  assert.deepEqual(cfg.environment_variables, { API_BASE: 'https://from-env', PORT: '8080', FLAG: 'true' });
  assert.deepEqual(env, { BASE: 'https://from-env' });
});

test('environment_variables override the caller env and report their own missing references', () => {
  const cfg = parse(`environment_variables: {KEY: from-config}\ngeneral_settings: {master_key: os.environ/KEY}`, { KEY: 'from-env' });
  assert.equal(cfg.general_settings.master_key, 'from-config');
  // An unset reference sets nothing, as LiteLLM's get_secret gives None; the start goes on and names it.
  const unset = parse(`environment_variables: {A: os.environ/NOPE, B: b}`);
  assert.deepEqual(unset.environment_variables, { B: 'b' });
  assert.deepEqual(unset.unset_env, [{ path: 'environment_variables.A', name: 'NOPE' }]);
  const bad = configError(() => parse(`environment_variables: [a]`));
  assert.equal(bad.path, 'environment_variables');
});

test('include merges lists, lets the main file win and resolves nested paths per file', () => {
  const cfg = loadConfigFile(fixture('include-main.yaml'), { INCLUDED_KEY: 'ik' });
  assert.deepEqual(
    cfg.model_list.map((d) => d.model_name),
    ['main-model', 'included-a', 'included-b', 'nested', 'leaf'],
  );
  assert.equal(cfg.model_list[1]!.litellm_params.api_key, 'ik', 'os.environ/ resolved in included files');
  // router_settings merged one level deep: main wins num_retries, include adds timeout.
  assert.deepEqual(cfg.router_settings, { routing_strategy: 'least-busy', num_retries: 2, timeout: 30 });
  assert.deepEqual(cfg.general_settings, { master_key: 'sk-from-include' });
  assert.equal(cfg.custom_top, 'from-main');
  assert.equal(cfg.only_in_include, 1);
  assert.equal('include' in cfg, false);
});

test('errors in an included deployment name the file it came from', () => {
  const err = configError(() => loadConfigFile(fixture('include-bad-model.yaml'), {}));
  assert.equal(err.path, 'model_list[2].litellm_params.timeout');
  assert.equal(
    err.message,
    'config: model_list[2].litellm_params.timeout: expected a number greater than 0, got string ("soon") (in bad-models.yaml)',
  );
});

test('an include cycle is refused', () => {
  const err = configError(() => loadConfigFile(fixture('cycle-a.yaml'), {}));
  assert.equal(err.path, 'include[0]');
  assert.match(err.message, /include cycle: cycle-a\.yaml -> cycle-b\.yaml -> cycle-a\.yaml/);
});

test('a missing include file is named', () => {
  const err = configError(() => loadConfigFile(fixture('include-missing.yaml'), {}));
  assert.equal(err.path, 'include[1]');
  assert.match(err.message, /included file "does-not-exist\.yaml" not found/);
  assert.ok(err.message.includes(fixture('does-not-exist.yaml')));
});

test('include must be a list of paths', () => {
  assert.equal(configError(() => parse('include: {a: 1}')).path, 'include');
  assert.equal(configError(() => parse('include: [3]')).path, 'include[0]');
});

test('YAML syntax errors name the file and line', () => {
  const err = configError(() => loadConfigFile(fixture('syntax-error.yaml'), {}));
  assert.equal(err.path, '');
  assert.ok(err.message.startsWith(`config: ${fixture('syntax-error.yaml')}:5:`), err.message);
  assert.match(err.message, /YAML syntax error on line 5: /);
  const inline = configError(() => parseConfigText('a: [1,\nb: 2\n', { baseDir: FIXTURES, env: {}, fileName: 'inline.yaml' }));
  assert.match(inline.message, /^config: inline\.yaml:\d+:\d+: YAML syntax error on line \d+/);
});

test('YAML 1.1 like PyYAML: yes/on are booleans, y stays a string, merge keys work', () => {
  const cfg = parse(`defaults: &d {model: openai/x, timeout: 10}
model_list:
  - model_name: a
    litellm_params: {<<: *d, api_key: y}
litellm_settings: {drop_params: yes, cache: on}`);
  assert.deepEqual(cfg.model_list[0]!.litellm_params, { model: 'openai/x', timeout: 10, api_key: 'y' });
  assert.deepEqual(cfg.litellm_settings, { drop_params: true, cache: true });
});

test('an empty file and null sections give an empty, well-formed config', () => {
  for (const text of ['', '# only a comment\n', 'model_list:\ngeneral_settings:\nlitellm_settings: ~\nrouter_settings:\nenvironment_variables:\n']) {
    const cfg = parse(text);
    assert.deepEqual({ ...cfg, agent_settings: undefined }, { model_list: [], general_settings: {}, litellm_settings: {}, router_settings: {}, environment_variables: {}, agent_settings: undefined });
    assert.deepEqual(cfg.agent_settings.jobs, [], 'agent_settings has its defaults and no definitions');
  }
  assert.match(configError(() => parse('- a\n- b\n')).message, /expected a mapping at the top level, got a list/);
});

test('refuseEmpty (a file watcher\'s read): an empty main file throws EmptyConfigError instead of loading no models', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-empty-config-'));
  try {
    const file = path.join(dir, 'config.yaml');
    for (const text of ['', ' \n\n']) {
      fs.writeFileSync(file, text);
      assert.throws(() => loadConfigFile(file, {}, { refuseEmpty: true }), EmptyConfigError);
      assert.deepEqual(loadConfigFile(file, {}).model_list, [], 'asked for (SIGHUP, POST /config/reload), it loads');
    }
    fs.writeFileSync(file, 'model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n');
    assert.equal(loadConfigFile(file, {}, { refuseEmpty: true }).model_list.length, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing config file is a ConfigError naming it', () => {
  const err = configError(() => loadConfigFile(fixture('nope.yaml'), {}));
  assert.ok(err.message.includes(fixture('nope.yaml')));
  assert.match(err.message, /ENOENT/);
});

test('describeConfigError gives one line for any error', () => {
  const err = configError(() => parse('model_list: [{model_name: a, litellm_params: {model: 42}}]'));
  assert.equal(describeConfigError(err), 'config: model_list[0].litellm_params.model: expected a string, got number (42)');
  assert.equal(describeConfigError(new Error('boom\n  at x')), 'config: boom at x');
  assert.equal(describeConfigError('weird'), 'config: weird');
});

// LiteLLM's Bedrock docs (docs/my-website/docs/providers/bedrock.md, "Usage - Bedrock Guardrails",
// Proxy on config.yaml), exactly: a flow mapping whose closing brace sits left of its key, with
// comments inside. PyYAML reads it; so must we, to the same value.
const BEDROCK_GUARDRAIL_EXAMPLE = `model_list:
  - model_name: bedrock-claude-v1
    litellm_params:
      model: bedrock/anthropic.claude-instant-v1
      aws_access_key_id: os.environ/CUSTOM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/CUSTOM_AWS_SECRET_ACCESS_KEY
      aws_region_name: os.environ/CUSTOM_AWS_REGION_NAME
      guardrailConfig: {
        "guardrailIdentifier": "ff6ujrregl1q", # The identifier (ID) for the guardrail.
        "guardrailVersion": "DRAFT",           # The version of the guardrail.
        "trace": "disabled",                   # The trace behavior for the guardrail. Can either be "disabled" or "enabled"
    }

`;

test('flow mappings indented the way PyYAML accepts load to the value PyYAML gives (LiteLLM\'s Bedrock guardrail example)', () => {
  const env = { CUSTOM_AWS_ACCESS_KEY_ID: 'a', CUSTOM_AWS_SECRET_ACCESS_KEY: 'b', CUSTOM_AWS_REGION_NAME: 'us-east-1' };
  const cfg = parse(BEDROCK_GUARDRAIL_EXAMPLE, env);
  assert.deepEqual(cfg.model_list[0]!.litellm_params.guardrailConfig, { guardrailIdentifier: 'ff6ujrregl1q', guardrailVersion: 'DRAFT', trace: 'disabled' });
  assert.equal(cfg.model_list[0]!.litellm_params.aws_region_name, 'us-east-1');
  // The variants PyYAML reads the same way (checked with PyYAML 6.0): the brace at column 0, a key
  // after it, continuation lines left of the key, a quoted string folded across lines.
  const variants: [string, unknown][] = [
    [BEDROCK_GUARDRAIL_EXAMPLE.replace('\n    }\n', '\n}\n'), { guardrailIdentifier: 'ff6ujrregl1q', guardrailVersion: 'DRAFT', trace: 'disabled' }],
    [BEDROCK_GUARDRAIL_EXAMPLE.replace('      guardrailConfig: {\n', '      guardrailConfig: {\n  "x": [1,\n2],\n'), { x: [1, 2], guardrailIdentifier: 'ff6ujrregl1q', guardrailVersion: 'DRAFT', trace: 'disabled' }],
    ['model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/x\n      extra: {"a": "one\n two", b: [x, y]\n  }\n      rpm: 5\n', { a: 'one two', b: ['x', 'y'] }],
  ];
  for (const [text, value] of variants) {
    const c = parse(text, env);
    const lp = c.model_list[0]!.litellm_params;
    assert.deepEqual(lp.guardrailConfig ?? lp.extra, value, text);
  }
  const after = parse(BEDROCK_GUARDRAIL_EXAMPLE.replace('\n    }\n', '\n    }\n    model_info: {id: after-the-brace}\n'), env);
  assert.equal(after.model_list[0]!.model_info?.id, 'after-the-brace');
  // A block scalar is text: a brace in it is never re-indented, and real syntax errors still stop the start.
  const prompt = parse('model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/x\n      note: |\n        { not yaml\n      rpm: 5\n', env);
  assert.equal(prompt.model_list[0]!.litellm_params.note, '{ not yaml\n');
  assert.match(configError(() => parse('model_list:\n  - model_name: m\n    litellm_params: {model: openai/x\n', env)).message, /YAML syntax error/);
});
