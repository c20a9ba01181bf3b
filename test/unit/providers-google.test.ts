// vertex_ai/ and gemini/ targets as the config makes them: hosts per location (global included),
// api_base, the model paths, the Anthropic body Vertex takes, and credentials that cannot be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { providerTarget } from '../../src/providers/registry';
import { liveWire, type WireSpec } from '../../src/providers/wire';
import { vertexAnthropicBody } from '../../src/providers/vertex';
import { credentialSpec } from '../../src/providers/google-auth';

const SA = JSON.stringify({ type: 'service_account', project_id: 'sa-project', client_email: 'x@y', private_key: 'not-a-real-key' });

const vertex = (upstreamModel: string, litellm: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, apiBase?: string) =>
  providerTarget({ provider: 'vertex_ai', upstreamModel, litellm, env, apiBase });

test('Claude on Vertex: the regional host, rawPredict / streamRawPredict under the anthropic publisher, the Anthropic dialect', () => {
  const t = vertex('claude-sonnet-4-5@20250929', { vertex_project: 'p1', vertex_location: 'us-east5', vertex_credentials: SA });
  assert.equal(t.unavailable, null);
  assert.equal(t.dialect, 'anthropic');
  assert.equal(t.origin, 'https://us-east5-aiplatform.googleapis.com');
  const w = liveWire(t as typeof t & { wire: WireSpec });
  assert.equal(w.path(false), '/v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict');
  assert.equal(w.path(true), '/v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict');
  assert.ok(!t.apiBase.includes('not-a-real-key'));
});

test('location global → aiplatform.googleapis.com; Gemini under the google publisher, streamed with alt=sse; the project from the service account', () => {
  const t = vertex('gemini-2.5-pro', { vertex_location: 'global', vertex_credentials: SA });
  assert.equal(t.origin, 'https://aiplatform.googleapis.com');
  assert.equal(t.dialect, 'gemini');
  const w = liveWire(t as typeof t & { wire: WireSpec });
  assert.equal(w.path(true), '/v1/projects/sa-project/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
  assert.equal(w.path(false), '/v1/projects/sa-project/locations/global/publishers/google/models/gemini-2.5-pro:generateContent');
});

test('VERTEXAI_PROJECT / VERTEXAI_LOCATION from the environment, api_base replacing the host; no project at all → unavailable with the reason', () => {
  const t = vertex('gemini-2.5-flash', {}, { VERTEXAI_PROJECT: 'envp', VERTEXAI_LOCATION: 'europe-west4' }, 'http://127.0.0.1:9999/prefix');
  assert.equal(t.origin, 'http://127.0.0.1:9999');
  assert.equal(t.path, '/prefix/v1/projects/envp/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent');
  assert.match(vertex('gemini-2.5-flash', {}).unavailable ?? '', /vertex_project or VERTEXAI_PROJECT/);
});

test('vertex_credentials: a path that cannot be read, or text that is no credential, leaves the deployment unavailable without echoing it', () => {
  const missing = vertex('claude-x', { vertex_project: 'p', vertex_credentials: '/nonexistent/sa.json' });
  assert.match(missing.unavailable ?? '', /cannot read the file \/nonexistent\/sa.json \(ENOENT\)/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-sa-'));
  const file = path.join(dir, 'sa.json');
  fs.writeFileSync(file, 'secret-looking-garbage');
  const bad = vertex('claude-x', { vertex_project: 'p', vertex_credentials: file });
  assert.match(bad.unavailable ?? '', /not a Google credentials JSON/);
  assert.ok(!(bad.unavailable ?? '').includes('secret-looking-garbage'));
  fs.rmSync(dir, { recursive: true });
  assert.equal(credentialSpec(undefined).key, 'adc');
  assert.equal(credentialSpec({ type: 'service_account' }).key, credentialSpec('{"type":"service_account"}').key, 'a mapping and its JSON text are the same credential');
});

test('the Anthropic body Vertex takes: model out, anthropic_version in (the client’s own kept), nothing else touched', () => {
  const out = JSON.parse(vertexAnthropicBody(Buffer.from('{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"\\"model\\": no"}],"stream":true}')).toString());
  assert.deepEqual(out, { anthropic_version: 'vertex-2023-10-16', max_tokens: 5, messages: [{ role: 'user', content: '"model": no' }], stream: true });
  const kept = JSON.parse(vertexAnthropicBody(Buffer.from('{ "anthropic_version" : "vertex-2099-01-01", "model":"m" }')).toString());
  assert.deepEqual(kept, { anthropic_version: 'vertex-2099-01-01' });
});

test('gemini/ (AI Studio): the v1beta model path, the key in x-goog-api-key, GEMINI_API_KEY from the environment', () => {
  const t = providerTarget({ provider: 'gemini', upstreamModel: 'gemini-2.5-flash', env: { GEMINI_API_KEY: 'AIza-env' } });
  assert.equal(t.origin, 'https://generativelanguage.googleapis.com');
  assert.deepEqual(t.headers, ['x-goog-api-key', 'AIza-env']);
  assert.deepEqual(t.secrets, ['AIza-env']);
  const w = liveWire(t as typeof t & { wire: WireSpec });
  assert.equal(w.path(true), '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.match(providerTarget({ provider: 'gemini', upstreamModel: 'g', env: {} }).unavailable ?? '', /GEMINI_API_KEY/);
});
