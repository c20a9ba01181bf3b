// Model-name resolution: exact groups first, then wildcard routes (most specific first), each
// made concrete for the requested name with its provider, upstream model and price.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load';
import { buildSnapshot } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import { fillTemplate, resolveGroup, wildcard } from '../../src/gateway/model-groups';
import { modelAllowed } from '../../src/gateway/policy';
import { reachablePrices } from '../../src/gateway/reservation';
import type { Snapshot } from '../../src/gateway/snapshot';

function build(yaml: string, env: NodeJS.ProcessEnv = {}): Snapshot {
  return buildSnapshot(parseConfigText(yaml, { baseDir: __dirname, env }), { version: 1, detailedDebug: false, env, slots: new SlotTable(64) });
}

test('wildcard: each * captures, everything else is literal', () => {
  assert.deepEqual(wildcard('anthropic/*').match('anthropic/claude-x'), ['claude-x']);
  assert.deepEqual(wildcard('fo::*:static::*').match('fo::a:static::b/c'), ['a', 'b/c']);
  assert.equal(wildcard('gpt-4.1*').match('gpt-4x1-mini'), null, 'the dot is literal');
  assert.deepEqual(wildcard('*').match('anything/at all'), ['anything/at all']);
  assert.equal(wildcard('a/*').match('b/a/x'), null, 'anchored');
});

test('fillTemplate: the nth * takes the nth capture; a template without * is fixed', () => {
  assert.equal(fillTemplate('openai/*', ['gpt-4o']), 'openai/gpt-4o');
  assert.equal(fillTemplate('x/*-*', ['a', 'b']), 'x/a-b');
  assert.equal(fillTemplate('openai/fixed', ['ignored']), 'openai/fixed');
});

const CONFIG = `
model_list:
  - model_name: "*"
    litellm_params: { model: "*" }
  - model_name: "anthropic/*"
    litellm_params: { model: "anthropic/*", api_key: sk-a }
  - model_name: "anthropic/*"
    litellm_params: { model: "anthropic/*", api_key: sk-b, api_base: "http://other:1" }
  - model_name: "cheap/*"
    litellm_params: { model: "openai/*", api_key: k, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
  - model_name: "anthropic/claude-exact"
    litellm_params: { model: openai/exact, api_key: k }
`;

test('an exact group wins; otherwise the most specific pattern, with every deployment of it', () => {
  const s = build(CONFIG, { OPENAI_API_KEY: 'sk-env' });
  assert.equal(resolveGroup(s, 'anthropic/claude-exact')!.targets[0]!.upstreamModel, 'exact');
  const g = resolveGroup(s, 'anthropic/claude-opus-4-1')!;
  assert.equal(g.name, 'anthropic/claude-opus-4-1');
  assert.equal(g.pattern, 'anthropic/*');
  assert.deepEqual(g.targets.map((t) => [t.provider, t.upstreamModel, t.apiBase]), [
    ['anthropic', 'claude-opus-4-1', 'https://api.anthropic.com'],
    ['anthropic', 'claude-opus-4-1', 'http://other:1'],
  ]);
  assert.equal(g.messagesTargets.length, 2);
  assert.equal(g.chatTargets.length, 0);
  assert.ok(g.targets.every((t) => t.upstreamModelJson === '"claude-opus-4-1"'));
  // Deployment identity (health slot, id) is the wildcard deployment's, shared by every name.
  const other = resolveGroup(s, 'anthropic/claude-sonnet-4')!;
  assert.equal(other.targets[0]!.slot, g.targets[0]!.slot);
  assert.equal(other.targets[0]!.id, g.targets[0]!.id);
});

test('the price comes from the table for the concrete model, or from the deployment overrides', () => {
  const s = build(CONFIG, { OPENAI_API_KEY: 'sk-env' });
  const opus = resolveGroup(s, 'anthropic/claude-opus-4-1')!.targets[0]!.price;
  assert.equal(opus.known, true);
  assert.ok(opus.input > 0 && opus.output > opus.input);
  assert.deepEqual(reachablePrices(s, resolveGroup(s, 'anthropic/claude-opus-4-1')!, null), [opus]);
  const cheap = resolveGroup(s, 'cheap/gpt-4o')!.targets[0]!.price;
  assert.equal(cheap.input, 1000);
  assert.equal(cheap.output, 2000);
  assert.equal(resolveGroup(s, 'anthropic/claude-unheard-of')!.targets[0]!.price.known, false);
});

test('the catch-all infers the provider and takes env credentials; an unknown provider matches nothing', () => {
  const s = build(CONFIG, { OPENAI_API_KEY: 'sk-env' });
  const g = resolveGroup(s, 'gpt-4o')!;
  assert.equal(g.pattern, '*');
  assert.equal(g.targets[0]!.provider, 'openai');
  assert.deepEqual(g.targets[0]!.headers, ['authorization', 'Bearer sk-env']);
  assert.equal(g.targets[0]!.unavailable, null);
  // No ANTHROPIC_API_KEY in this env: the target exists but says why it cannot be called.
  assert.match(resolveGroup(s, 'claude-haiku-4-5')!.targets[0]!.unavailable!, /ANTHROPIC_API_KEY/);
  assert.equal(resolveGroup(s, 'groq/llama-3')!.targets[0]!.provider, 'groq');
  assert.equal(resolveGroup(s, 'llama-3'), undefined);
});

test('a name is made concrete once per snapshot; wildcards stay out of the exact groups', () => {
  const s = build(CONFIG, { OPENAI_API_KEY: 'sk-env' });
  assert.equal(resolveGroup(s, 'gpt-4o'), resolveGroup(s, 'gpt-4o'));
  assert.equal(s.groups.has('anthropic/*'), false);
  assert.deepEqual(s.wildcards.map((w) => w.name), ['anthropic/*', 'cheap/*', '*']);
  assert.ok(s.priceTable.size > 0);
});

test('an access group holding a wildcard deployment grants every name the pattern matches', () => {
  const groups = new Map([['vip', new Set(['exact-model', 'anthropic/*'])]]);
  assert.equal(modelAllowed(['vip'], 'anthropic/claude-opus-4-1', groups), true);
  assert.equal(modelAllowed(['vip'], 'exact-model', groups), true);
  assert.equal(modelAllowed(['vip'], 'openai/gpt-4o', groups), false);
  assert.equal(modelAllowed(['other'], 'anthropic/claude-opus-4-1', groups), false);
});
