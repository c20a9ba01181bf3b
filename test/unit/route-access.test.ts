// route-access.ts: a key's allowed_routes (paths, path prefixes, `prefix*` wildcards and LiteLLM's
// route groups), LiteLLM's 403 for the rest, and the pass-through grant of allowed_passthrough_routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowRoute, passThroughGranted, routeAllowed } from '../../src/gateway/route-access';
import { ROUTE_GROUPS, ROUTES_BY_KEY_TYPE } from '../../src/gateway/route-groups';
import { GatewayError } from '../../src/gateway/errors';
import { MASTER, OPEN, type Identity } from '../../src/gateway/identity';
import { keyProfile } from '../support/key-profile';

const keyWith = (allowedRoutes: string[], passThroughRoutes: string[] = []): Identity => ({
  kind: 'key',
  profile: keyProfile(0, { allowedRoutes, passThroughRoutes, tokenHash: 'ab'.repeat(32) }),
  hash: Buffer.alloc(32),
});

test('no allowed_routes: every route, as in LiteLLM', () => {
  for (const r of ['/v1/chat/completions', '/key/generate', '/anthropic/v1/messages', '/anything']) assert.equal(routeAllowed([], r), true);
});

test('a path entry allows the path and what is under it, not a longer name', () => {
  const a = ['/v1/chat/completions', '/custom'];
  assert.equal(routeAllowed(a, '/v1/chat/completions'), true);
  assert.equal(routeAllowed(a, '/custom'), true);
  assert.equal(routeAllowed(a, '/custom/v1/x'), true);
  assert.equal(routeAllowed(a, '/custom-2'), false);
  assert.equal(routeAllowed(a, '/v1/messages'), false);
  assert.equal(routeAllowed(a, '/chat/completions'), false);
});

test('a `prefix*` entry allows every route that starts with the prefix', () => {
  assert.equal(routeAllowed(['/v1/*'], '/v1/messages'), true);
  assert.equal(routeAllowed(['/v1/*'], '/v1/'), true);
  assert.equal(routeAllowed(['/v1/*'], '/v2/models'), false);
  assert.equal(routeAllowed(['/key*'], '/key/info'), true);
});

test('llm_api_routes: the LLM endpoints Weir serves and the provider pass-through routes, not management or info', () => {
  const a = ['llm_api_routes'];
  for (const r of ['/v1/chat/completions', '/chat/completions', '/v1/messages', '/v1/messages/count_tokens', '/v1/responses', '/responses', '/v1/embeddings', '/embeddings', '/v1/models', '/models', '/model/info', '/v1/model/info', '/anthropic/v1/messages', '/openai/v1/chat/completions', '/anthropic']) {
    assert.equal(routeAllowed(a, r), true, r);
  }
  for (const r of ['/key/generate', '/key/info', '/team/new', '/user/info', '/spend/logs', '/global/spend', '/config/reload']) assert.equal(routeAllowed(a, r), false, r);
});

test('route group patterns: {placeholder} matches one path segment, {x:path} several', () => {
  const a = ['llm_api_routes'];
  assert.equal(routeAllowed(a, '/v1/threads/thread_49EIN5QF32s4mH20M7GFKdlZ'), true);
  assert.equal(routeAllowed(a, '/v1/threads/a/b'), false);
  assert.equal(routeAllowed(a, '/openai/deployments/gpt-4o/chat/completions'), true);
  assert.equal(routeAllowed(a, '/v1beta/models/publishers/google/models/gemini:generateContent'), true);
  assert.equal(routeAllowed(a, '/v1/containers/cntr_1/files'), true, 'a `/v1/containers/*` wildcard of the group');
  // The literal parts of a pattern are literal: its dots match dots only.
  assert.equal(routeAllowed(a, '/a2a/agent-1/.well-known/agent-card.json'), true);
  assert.equal(routeAllowed(a, '/a2a/agent-1/.well-known/agent-cardXjson'), false);
  // A key's own entries are paths, never patterns (LiteLLM matches them exactly or as prefixes).
  assert.equal(routeAllowed(['/threads/{thread_id}'], '/threads/t1'), false);
});

test('info_routes (key_type read_only): model lists and info routes, no LLM call and no change', () => {
  const a = [...ROUTES_BY_KEY_TYPE.read_only!];
  for (const r of ['/v1/models', '/models', '/model/info', '/key/info', '/team/info', '/user/info', '/key/list', '/health']) assert.equal(routeAllowed(a, r), true, r);
  for (const r of ['/v1/chat/completions', '/v1/messages', '/v1/responses', '/anthropic/v1/messages', '/key/generate', '/key/delete']) assert.equal(routeAllowed(a, r), false, r);
});

test('management_routes (key_type management): key, team and user management, no LLM call', () => {
  const a = [...ROUTES_BY_KEY_TYPE.management!];
  for (const r of ['/key/generate', '/key/update', '/key/delete', '/key/info', '/team/new', '/user/new', '/key/sk-abc/regenerate', '/spend/logs']) assert.equal(routeAllowed(a, r), true, r);
  for (const r of ['/v1/chat/completions', '/v1/messages', '/global/spend']) assert.equal(routeAllowed(a, r), false, r);
});

test('every LiteLLM route group is known, and a name that is no group is a plain path', () => {
  for (const name of ['openai_routes', 'anthropic_routes', 'info_routes', 'management_routes', 'llm_api_routes', 'spend_tracking_routes', 'global_spend_tracking_routes', 'key_management_routes', 'admin_viewer_routes', 'internal_user_routes', 'self_managed_routes', 'public_routes', 'mcp_routes', 'agent_routes', 'org_admin_allowed_routes']) {
    assert.ok(Array.isArray(ROUTE_GROUPS[name]) && ROUTE_GROUPS[name]!.length > 0, name);
  }
  assert.equal(routeAllowed(['global_spend_tracking_routes'], '/global/spend/keys'), true);
  assert.equal(routeAllowed(['no_such_group'], '/v1/chat/completions'), false);
  assert.equal(routeAllowed(['no_such_group'], '/no_such_group'), false, 'only a route starting with / can equal it');
  assert.equal(routeAllowed(['toString'], '/v1/chat/completions'), false, 'object prototype names are no group');
});

test('a refused route: LiteLLM 403 naming the allowed routes and the route; master key and open proxy pass', () => {
  const who = keyWith(['info_routes', '/v1/models']);
  assert.equal(allowRoute(who, '/v1/models'), who);
  let err: unknown;
  try {
    allowRoute(who, '/v1/chat/completions');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof GatewayError);
  assert.equal(err.status, 403);
  assert.equal(err.type, 'auth_error');
  assert.equal(err.message, "Virtual key is not allowed to call this route. Only allowed to call routes: ['info_routes', '/v1/models']. Tried to call route: /v1/chat/completions");
  assert.equal(allowRoute(MASTER, '/v1/chat/completions'), MASTER);
  assert.equal(allowRoute(OPEN, '/key/generate'), OPEN);
});

test('passThroughGranted: a provider route other than an LLM call needs a grant of its own', () => {
  assert.equal(passThroughGranted(keyProfile(0), '/openai/v1/files/file-1'), false);
  assert.equal(passThroughGranted(keyProfile(0, { passThroughRoutes: ['/openai/v1/files'] }), '/openai/v1/files/file-1'), true);
  assert.equal(passThroughGranted(keyProfile(0, { passThroughRoutes: ['/openai/v1/files'] }), '/openai/v1/batches'), false);
});

test('passThroughGranted: a grant covers the path and what is under it; `*` is literal', () => {
  const grant = (routes: string[], path: string) => passThroughGranted(keyProfile(0, { passThroughRoutes: routes }), path);
  assert.equal(grant(['/model-host'], '/model-host'), true);
  assert.equal(grant(['/model-host'], '/model-host/v1/predict'), true);
  assert.equal(grant(['/model-host'], '/model-hosting/v1'), false);
  assert.equal(grant(['/model-host/*'], '/model-host/v1/predict'), false);
  assert.equal(grant(['/other', '/model-host/v1'], '/model-host/v1/predict'), true);
  assert.equal(grant([], '/model-host/v1'), false);
});
