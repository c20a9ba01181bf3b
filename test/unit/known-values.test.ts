// The known-values cache (src/gateway/known-values.ts): a body scanned with a scope gives exactly
// what the plain scan gives, whatever the cache holds and whatever the body (sessions that grow,
// change, fork, or arrive damaged); Claude Code's resent values are found, not walked; one key's
// values are never found for another; memory and work stay bounded.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanBody } from '../../src/gateway/body-scan';
import { forgetKnownValues, knownValuesWrong, knownValueStats, MAX_BYTES, MIN_VALUE } from '../../src/gateway/known-values';
import { claudeCodeBody, withBreakpoint } from '../../native-bench/bodies';
import { assertLinear, bodyRecipe, buildBody, counted, damage, damaged } from './linear-helpers';

beforeEach(() => forgetKnownValues());

type Obj = Record<string, unknown>;

/** The bytes of each version a scan named (MessagesLayout.history): its messages array, from `[` to `]`. */
const versions = new Map<number, Buffer>();

/**
 * Asserts the scan with the cache gives what the plain scan gives; `messages`: with the messages'
 * layout recorded (a translated model's). The layout's history is the cache's own addition: what it
 * names must be true. The version before holds this array's first `shared` messages, byte for
 * byte, and the version after is this array's bytes, never another's.
 */
function sameScan(b: Buffer, scope = 'key-a', messages = false): ReturnType<typeof scanBody> {
  const plain = scanBody(b, messages);
  const known = scanBody(b, messages, scope);
  const h = known.messages?.history;
  if (h !== undefined) {
    const l = known.messages!;
    delete l.history;
    const array = b.subarray(l.arrStart, l.arrEnd);
    if (h.before >= 0 && h.shared > 0) {
      const kept = versions.get(h.before);
      assert.ok(kept !== undefined, 'a version named before was named after by an earlier scan');
      const to = l.ends[h.shared - 1]! - l.arrStart;
      assert.ok(kept.subarray(0, to).equals(array.subarray(0, to)), `the first ${h.shared} messages are version ${h.before}'s`);
    }
    if (h.after >= 0) {
      const was = versions.get(h.after);
      assert.ok(was === undefined || was.equals(array), `version ${h.after} names one content only`);
      versions.set(h.after, Buffer.from(array));
    }
  }
  assert.deepEqual(known, plain);
  if (h !== undefined) known.messages!.history = h;
  return known;
}

/** Call `k` of a Claude Code session: the base body's history cut to its first 1 + 2k turns, the breakpoint on the last. */
function sessionCall(base: Obj & { messages: Obj[] }, k: number): Buffer {
  return Buffer.from(JSON.stringify({ ...base, messages: withBreakpoint(base.messages.slice(0, 1 + 2 * k)) }));
}

for (const messages of [false, true]) {
  test(`a Claude Code session${messages ? ', its messages laid out for translation' : ''}: tools and system are found whole, the history in part (its last message's breakpoint moved), and the scan is the plain one's`, () => {
    const base = claudeCodeBody() as Obj & { messages: Obj[] };
    const first = sameScan(sessionCall(base, 10), 'key-a', messages);
    assert.equal(first.messages !== null, messages);
    assert.equal(knownValueStats.crossed, 3, 'the first call crosses system, tools and messages');
    let version = first.messages?.history?.after ?? -1;
    if (messages) assert.deepEqual(first.messages!.history, { before: -1, shared: 0, after: version }, 'kept anew');
    for (let k = 11; k < 20; k++) {
      const before = { ...knownValueStats };
      const scan = sameScan(sessionCall(base, k), 'key-a', messages);
      assert.equal(knownValueStats.whole - before.whole, 2, `call ${k}: system and tools found whole`);
      assert.equal(knownValueStats.extended - before.extended, 1, `call ${k}: the history found in part`);
      assert.equal(knownValueStats.crossed, 3, `call ${k}: nothing crossed anew`);
      if (messages) {
        // The last call's messages but its last (which lost its breakpoint), then a turn more, kept under a new version.
        const h = scan.messages!.history!;
        assert.deepEqual([h.before, h.shared], [version, 2 * (k - 1)], `call ${k}`);
        assert.ok(h.after > version, `call ${k}: a new version`);
        version = h.after;
      }
    }
    assert.equal(knownValueStats.values, 3, 'a session keeps one entry a value: its history the latest');
    const before = knownValueStats.whole;
    const again = sameScan(sessionCall(base, 19), 'key-a', messages);
    assert.equal(knownValueStats.whole - before, 3, 'the same body again: all three found whole');
    if (messages) assert.deepEqual(again.messages!.history, { before: version, shared: 39, after: version }, 'found whole: the same version');
    assert.equal(knownValuesWrong(), null);
  });
}

test("one key's values are never found for another's scope", () => {
  const b = sessionCall(claudeCodeBody() as Obj & { messages: Obj[] }, 12);
  sameScan(b, 'key-a');
  sameScan(b, 'key-b');
  assert.equal(knownValueStats.whole, 0);
  assert.equal(knownValueStats.crossed, 6);
  sameScan(b, 'key-a');
  assert.equal(knownValueStats.whole, 3);
});

test('a body without a scope leaves the cache alone', () => {
  const b = sessionCall(claudeCodeBody() as Obj & { messages: Obj[] }, 12);
  scanBody(b);
  assert.equal(knownValueStats.values, 0);
  assert.equal(knownValueStats.crossed, 0);
});

/** An array value of `n` elements, each an object with a long string, a nested array and a number. */
function elements(n: number, seed: number): string[] {
  return Array.from({ length: n }, (_, k) => JSON.stringify({ id: `${seed}-${k}`, text: 'x'.repeat(400 + ((seed * 31 + k * 17) % 300)), nested: [[k], { s: 'q"\\' }], n: k }));
}

const edit = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('change' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('space' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('scalar' as const), text: fc.constantFrom('1', 'tru"e', '"a"', 'null', '', '[', '{"a":]', '"\\\\"') }),
  fc.record({ kind: fc.constant('fork' as const), seed: fc.nat(50) }),
);

test('sessions edited at random, and their bodies damaged: the scan with the cache is always the plain one (fast-check)', () => {
  const seen = { whole: 0, extended: 0 };
  fc.assert(
    fc.property(fc.array(fc.tuple(edit, fc.boolean()), { minLength: 1, maxLength: 12 }), fc.option(damage), fc.constantFrom('key-a', 'key-b'), (edits, dmg, scope) => {
      forgetKnownValues();
      let items = elements(12, 1);
      const tail = JSON.stringify({ type: 'object', properties: Object.fromEntries(elements(10, 9).map((e, k) => [`p${k}`, JSON.parse(e) as unknown])) });
      for (const [e, laidOut] of edits) {
        if (e.kind === 'append') items = [...items, ...elements(e.n, items.length)];
        else if (e.kind === 'change') items = items.map((x, k) => (k === e.at % items.length ? x.replace('"n":', '"n": 1, "m":') : x));
        else if (e.kind === 'drop') items = items.slice(0, Math.max(1, items.length - e.n));
        else if (e.kind === 'space') items = items.map((x, k) => (k === e.at % items.length ? ` ${x}\n` : x));
        else if (e.kind === 'scalar') items = [...items, e.text];
        else items = elements(items.length, e.seed);
        const body = Buffer.from(`{"model":"m","messages":[${items.join(',')}],"tools":${tail},"stream":true}`);
        sameScan(body, scope, laidOut);
        if (dmg) sameScan(damaged(body, dmg), scope, laidOut);
        assert.equal(knownValuesWrong(), null);
      }
      seen.whole += knownValueStats.whole;
      seen.extended += knownValueStats.extended;
    }),
    { numRuns: 40 },
  );
  assert.ok(seen.whole > 0 && seen.extended > 0, `values found whole ${seen.whole} times, in part ${seen.extended}`);
});

test('memory stays under MAX_BYTES and only values of MIN_VALUE bytes or more are kept', () => {
  const big = 'y'.repeat(300 * 1024);
  for (let k = 0; k < 60; k++) sameScan(Buffer.from(`{"model":"m","system":"${k}${big}","small":[${'1,'.repeat(100)}2]}`));
  assert.ok(knownValueStats.bytes <= MAX_BYTES, `${knownValueStats.bytes} bytes kept`);
  assert.equal(knownValueStats.values, Math.floor(MAX_BYTES / (big.length + 4)));
  forgetKnownValues();
  sameScan(Buffer.from(`{"model":"m","small":[${'1,'.repeat(MIN_VALUE / 4)}2],"pad":"${'z'.repeat(MIN_VALUE)}"}`));
  assert.equal(knownValueStats.values, 1, 'the pad string is kept, the array under MIN_VALUE is not');
});

test('the scan with a scope stays linear on hostile bodies, whatever the cache holds (fast-check)', () => {
  let found = 0;
  fc.assert(
    fc.property(bodyRecipe, damage, (r, d) => {
      const b = buildBody(r);
      for (const body of [b, b, damaged(b, d), damaged(b, d)]) {
        const { steps } = counted(() => scanBody(body, false, 'key-a'));
        // The walk and its look-backs (≤ 6 per byte: linear-body-scan.test.ts), twice the body in compares, one copy kept, one walk again after a malformed element.
        assertLinear('scanBody with known values', body.length, steps, 10);
      }
      found += knownValueStats.whole + knownValueStats.extended;
    }),
  );
  assert.ok(found > 0, 'the cache found values in these bodies');
});
