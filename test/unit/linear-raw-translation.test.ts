// The raw-body translation (Anthropic → OpenAI without decoding long strings) is linear in the
// body: its scans (the walk for long literals, their escape checks, the splice of the translated
// skeleton) count steps (src/scan-steps.ts) under a fixed multiple of the body's length, for
// bodies of many long strings with escapes nowhere, at their start, their end or everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { anthropicToOpenAIChatRaw } from '../../src/gateway/raw-translation';
import { TranslationCache } from '../../src/gateway/translation-cache';
import { scanBody } from '../../src/gateway/body-scan';
import { assertLinear, counted } from './linear-helpers';

/**
 * Steps per body byte: the UTF-8 and control-byte checks (2), the walk (1), each long literal's
 * escapes, length and UTF-8 count (3), the skeleton's copy, decode, NUL search and parse (4), the
 * translated JSON and the splice (4), and the double escaping of strings in tool_use inputs.
 * Measured: at most 10.3 on the generated bodies.
 */
const C = 16;

interface RawRecipe {
  /** Long strings, each `len` bytes of content, under `key` (`input`: a tool_use input's `text`, escaped twice on the way). */
  count: number;
  len: number;
  key: 'text' | 'content' | 'description' | 'input';
  /** Where the long strings have escapes. */
  escapes: 'none' | 'start' | 'end' | 'every';
  /** Short strings between them, and spaces around the members. */
  short: number;
  spaces: number;
}

const recipe: fc.Arbitrary<RawRecipe> = fc.record({
  count: fc.integer({ min: 1, max: 600 }),
  len: fc.integer({ min: 260, max: 2000 }),
  key: fc.constantFrom('text' as const, 'content' as const, 'description' as const, 'input' as const),
  escapes: fc.constantFrom('none' as const, 'start' as const, 'end' as const, 'every' as const),
  short: fc.integer({ min: 0, max: 20 }),
  spaces: fc.integer({ min: 0, max: 40 }),
});

function longString(r: RawRecipe, i: number): string {
  const body = 'abcdefghij'.repeat(Math.ceil(r.len / 10)).slice(0, r.len);
  const esc = '\\"\\\\\\n\\u00e9';
  if (r.escapes === 'start') return `"${esc}${body}"`;
  if (r.escapes === 'end') return `"${body}${esc}"`;
  if (r.escapes === 'every') return `"${body.replace(/j/g, '\\u006a')}"`;
  return `"${body}${i}"`;
}

/** An Anthropic messages body (≥ MIN_BODY) built from the recipe, as JSON text with spaces where asked. */
function build(r: RawRecipe): Buffer {
  const sp = ' '.repeat(r.spaces);
  const blocks: string[] = [];
  for (let i = 0; i < r.count; i++) {
    const shorts = Array.from({ length: r.short }, (_, k) => `"k${k}"${sp}:${sp}"v"`).join(',');
    if (r.key === 'text') blocks.push(`{"type":"text",${shorts}${shorts ? ',' : ''}"text"${sp}:${sp}${longString(r, i)}}`);
    else if (r.key === 'content') blocks.push(`{"type":"tool_result","tool_use_id":"t${i}","content"${sp}:${sp}${longString(r, i)}}`);
    else if (r.key === 'input') blocks.push(`{"type":"tool_result","tool_use_id":"t${i}","content":"ok"}`);
    else blocks.push(`{"type":"text","text":"t${i}"}`);
  }
  const input = (i: number) => (r.key === 'input' ? `{"text"${sp}:${sp}${longString(r, i)}}` : '{}');
  const uses = r.key === 'content' || r.key === 'input' ? Array.from({ length: r.count }, (_, i) => `{"type":"tool_use","id":"t${i}","name":"f","input":${input(i)}}`).join(',') : '';
  const tools =
    r.key === 'description'
      ? Array.from({ length: r.count }, (_, i) => `{"name":"f${i}","description"${sp}:${sp}${longString(r, i)},"input_schema":{"type":"object"}}`).join(',')
      : '{"name":"f","input_schema":{"type":"object"}}';
  const messages = uses ? `{"role":"assistant","content":[${uses}]},{"role":"user","content":[${blocks.join(',')}]}` : `{"role":"user","content":[${blocks.join(',')}]}`;
  const pad = `{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"${'p'.repeat(16 * 1024)}"}]}`;
  return Buffer.from(`{"model":"claude",${sp}"max_tokens":10,"tools":[${tools}],"messages":[${messages},${pad}]}`);
}

test('anthropicToOpenAIChatRaw: linear in the body (fast-check)', () => {
  fc.assert(
    fc.property(recipe, (r) => {
      const b = build(r);
      JSON.parse(b.toString()); // the recipe makes valid JSON
      const { steps, value } = counted(() => anthropicToOpenAIChatRaw(b, { model: 'gpt-4.1' }));
      assert.ok(value, 'the raw path applies');
      assertLinear('anthropicToOpenAIChatRaw', b.length, steps, C);
    }),
    { numRuns: 30 },
  );
});

test('2,000 long strings without a backslash: each escape check searched to the end of the body', () => {
  const r: RawRecipe = { count: 2000, len: 300, key: 'text', escapes: 'none', short: 0, spaces: 0 };
  const b = build(r);
  const { steps, value } = counted(() => anthropicToOpenAIChatRaw(b, { model: 'gpt-4.1' }));
  assert.ok(value);
  assertLinear('anthropicToOpenAIChatRaw, 2,000 long strings', b.length, steps, C);
});

/**
 * The per-session cache (gateway/translation-cache.ts) on the same bodies, and on a conversation
 * of many units, counted with the gateway's scan of the body it hands over (body-scan.ts): a first
 * call (every part translated: the walk of `messages`, the raw translation of each part) and a
 * second (every part found: the walk and the compare of each part's bytes) stay linear. Measured
 * before the cache took the scan's member spans: at most 12.3 steps per byte (60 runs).
 */
const C_CACHE = 24;

test('TranslationCache.translate: linear in the body, first call and call found (fast-check)', () => {
  fc.assert(
    fc.property(recipe, fc.integer({ min: 1, max: 300 }), (r, rounds) => {
      const cache = new TranslationCache();
      const b = build(r);
      for (let call = 0; call < 2; call++) {
        const { steps, value } = counted(() => cache.translate(b, { model: 'gpt-4.1' }, scanBody(b, true)));
        assert.ok(value, 'translated');
        assertLinear(`TranslationCache.translate, call ${call + 1}`, b.length, steps, C_CACHE);
      }
      // Many units: an assistant tool call and its result per round.
      const units = Array.from({ length: rounds }, (_, i) => `{"role":"assistant","content":[{"type":"tool_use","id":"u${i}","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"u${i}","content":${longString(r, i)}}]}`);
      const many = Buffer.from(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"${'p'.repeat(16 * 1024)}"},${units.join(',')}]}`);
      for (let call = 0; call < 2; call++) {
        const { steps, value } = counted(() => cache.translate(many, { model: 'gpt-4.1' }, scanBody(many, true)));
        assert.ok(value, 'translated');
        assertLinear(`TranslationCache.translate, ${rounds} units, call ${call + 1}`, many.length, steps, C_CACHE);
      }
    }),
    { numRuns: 20 },
  );
});
