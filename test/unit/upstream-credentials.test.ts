// Credentials a deployment's config carries besides api_key: the userinfo and query string of
// api_base, and litellm_params.headers / extra_headers. They go upstream (userinfo as the Basic
// authorization it implies, unless the provider authenticates with an Authorization of its own;
// the query on every path) and are masked or left out everywhere they could be shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load';
import { ConfigError } from '../../src/config/errors';
import { buildSnapshot } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import type { Snapshot, Target } from '../../src/gateway/snapshot';
import { parseBaseUrl, shownUrl, subPath, withQuery } from '../../src/providers/base-url';

const USER = 'gw-user-7731';
const PASS = 'gw-pass-SECRET-90';
const QKEY = 'qkey-SECRET-4242';
const HDR = 'hdr-SECRET-5151';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
const CRED_BASE = `https://${USER}:${PASS}@llm.example.com/v1?api-key=${QKEY}&tenant=t1`;

function build(yaml: string): Snapshot {
  return buildSnapshot(parseConfigText(yaml, { baseDir: __dirname, env: {} }), { version: 1, detailedDebug: false, env: {}, slots: new SlotTable(64) });
}

function target(params: string): Target {
  const s = build(`model_list:\n  - model_name: m\n    litellm_params: ${params}\n`);
  return s.groups.get('m')!.targets[0]!;
}

const header = (t: Target, name: string): string | undefined => {
  const i = t.headers.findIndex((h, j) => j % 2 === 0 && h === name);
  return i < 0 ? undefined : t.headers[i + 1];
};

test('parseBaseUrl: the URL as sent and as shown, its Basic credentials and the values to scrub', () => {
  const b = parseBaseUrl(CRED_BASE);
  assert.equal(b.origin, 'https://llm.example.com');
  assert.equal(b.basePath, '/v1');
  assert.equal(b.query, `api-key=${QKEY}&tenant=t1`);
  assert.equal(b.basicAuth, BASIC);
  assert.equal(b.shown, 'https://****:****@llm.example.com/v1?api-key=****&tenant=****');
  for (const s of [USER, PASS, QKEY, BASIC]) assert.ok(b.secrets.includes(s), s);
  // Percent-encoded userinfo is decoded for the header, and scrubbed in both forms.
  const enc = parseBaseUrl('http://me%40corp:p%3Ass-word@h:8080');
  assert.equal(enc.basicAuth, `Basic ${Buffer.from('me@corp:p:ss-word').toString('base64')}`);
  assert.ok(enc.secrets.includes('p:ss-word') && enc.secrets.includes('p%3Ass-word'));
  assert.equal(enc.shown, 'http://****:****@h:8080/');
  // Without credentials the text is shown as written.
  const plain = parseBaseUrl('http://127.0.0.1:4000/v1/');
  assert.deepEqual({ shown: plain.shown, basicAuth: plain.basicAuth, query: plain.query, basePath: plain.basePath }, { shown: 'http://127.0.0.1:4000/v1/', basicAuth: null, query: '', basePath: '/v1' });
  assert.equal(shownUrl('not a url at all'), 'not a url at all');
  assert.equal(shownUrl(`http://${USER}:${PASS}@h:port/v1?k=${QKEY}&x=1`), 'http://****@h:port/v1?k=****&x=****', 'masked even when it does not parse');
  assert.equal(shownUrl('http://u:p/a?b@h:port/v1'), 'http://****@h:port/v1');
  assert.equal(withQuery('/a/chat?x=1', 'k=2'), '/a/chat?x=1&k=2');
  assert.equal(subPath('/v1/messages?k=2', '/count_tokens'), '/v1/messages/count_tokens?k=2');
});

test('openai-compatible: userinfo authenticates as Basic when there is no api_key; the query is on every path', () => {
  const t = target(`{ model: hosted_vllm/q, api_base: "${CRED_BASE}" }`);
  assert.equal(header(t, 'authorization'), BASIC);
  assert.equal(t.path, `/v1/chat/completions?api-key=${QKEY}&tenant=t1`);
  assert.equal(t.embeddingsPath, `/v1/embeddings?api-key=${QKEY}&tenant=t1`);
  const o = target(`{ model: openai/gpt-4o, api_base: "${CRED_BASE}", api_key: sk-up-SECRET-1 }`);
  assert.equal(header(o, 'authorization'), 'Bearer sk-up-SECRET-1', 'the provider\'s own authorization wins');
  assert.equal(o.responsesPath, `/v1/responses?api-key=${QKEY}&tenant=t1`);
  for (const x of [t, o]) assert.equal(x.apiBase, 'https://****:****@llm.example.com/v1?api-key=****&tenant=****');
});

test('anthropic and azure keep their own key header and add the Basic authorization; azure keeps api-version', () => {
  const a = target(`{ model: anthropic/claude-x, api_base: "${CRED_BASE}", api_key: sk-ant-SECRET-2 }`);
  assert.equal(header(a, 'x-api-key'), 'sk-ant-SECRET-2');
  assert.equal(header(a, 'authorization'), BASIC);
  assert.equal(a.path, `/v1/v1/messages?api-key=${QKEY}&tenant=t1`);
  const z = target(`{ model: azure/dep-1, api_base: "${CRED_BASE}", api_key: az-SECRET-3, api_version: "2024-06-01" }`);
  assert.equal(header(z, 'api-key'), 'az-SECRET-3');
  assert.equal(header(z, 'authorization'), BASIC);
  assert.equal(z.path, `/v1/openai/deployments/dep-1/chat/completions?api-version=2024-06-01&api-key=${QKEY}&tenant=t1`);
  for (const x of [a, z]) for (const s of [USER, PASS, QKEY]) assert.ok(x.secrets.includes(s));
});

test('litellm_params.headers are sent like extra_headers (which win); credential-like values are secrets', () => {
  const t = target(`{ model: openai/gpt-4o, api_key: sk-k-SECRET-4, headers: { X-Tenant-Token: ${HDR}, X-Team: blue, X-Both: from-headers }, extra_headers: { X-Both: from-extra } }`);
  assert.equal(header(t, 'x-tenant-token'), HDR);
  assert.equal(header(t, 'x-team'), 'blue');
  assert.equal(header(t, 'x-both'), 'from-extra');
  assert.ok(t.secrets.includes(HDR));
  assert.ok(!t.secrets.includes('blue'));
  const auth = target(`{ model: openai/gpt-4o, api_key: sk-k-SECRET-4, headers: { Authorization: "Basic ${HDR}" } }`);
  assert.equal(header(auth, 'authorization'), `Basic ${HDR}`);
  assert.ok(auth.secrets.includes(HDR));
});

test('/v1/models and /model/info show no userinfo, query value or header value', () => {
  const s = build(`model_list:
  - model_name: m
    litellm_params: { model: hosted_vllm/q, api_base: "${CRED_BASE}", headers: { X-Tenant-Token: ${HDR} }, extra_headers: { X-Other: ${HDR} } }
`);
  for (const body of [s.modelsBody, s.modelInfoBody, ...s.modelInfoEntries.map((e) => e.json)]) {
    for (const secret of [USER, PASS, QKEY, HDR]) assert.ok(!body.includes(secret), `${secret} in ${body}`);
  }
  const info = JSON.parse(s.modelInfoBody).data[0].litellm_params;
  assert.equal(info.api_base, 'https://****:****@llm.example.com/v1?api-key=****&tenant=****');
  assert.deepEqual(info.headers, { 'X-Tenant-Token': '[redacted]' });
  assert.deepEqual(info.extra_headers, { 'X-Other': '[redacted]' });
});

test('an api_base that is no http(s) URL (an unavailable deployment) or a header value of the wrong type (a config error) never prints the credentials', () => {
  const reason = (yaml: string): string => build(yaml).groups.get('m')!.targets[0]!.unavailable ?? assert.fail('expected an unavailable deployment');
  const m1 = reason(`model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_key: k, api_base: "ftp://${USER}:${PASS}@h/v1?k=${QKEY}" }\n`);
  assert.match(m1, /^litellm_params\.api_base is not an http:\/\/ or https:\/\/ URL/);
  const m2 = reason(`model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_key: k, api_base: "http://${USER}:${PASS}@h:port/v1?k=${QKEY}" }\n`);
  assert.match(m2, /^litellm_params\.api_base is not an http:\/\/ or https:\/\/ URL/);
  let m3 = '';
  try {
    build(`model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, headers: { X-Token: [${HDR}] } }\n`);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    m3 = e.message;
  }
  assert.match(m3, /model_list\[0\]\.litellm_params\.headers/);
  for (const m of [m1, m2, m3]) for (const secret of [USER, PASS, QKEY, HDR]) assert.ok(!m.includes(secret), `${secret} in ${m}`);
});
