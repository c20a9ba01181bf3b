// The streaming scanners are linear in the stream: N bytes in any chunking cost O(N) steps in
// total (src/scan-steps.ts), not O(N × chunks). fast-check generates streams of hostile events
// (long lines without a newline, data lines by the hundred, braces that all look like `usage`, a
// `choices` whose `[` comes late, lone CRs, runs of LFs) with LF, CRLF or CR line endings, cut
// byte by byte, at random, or not at all, and each scanner's work is counted over the whole stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AnthropicUsageScanner } from '../../src/accounting/usage-stream-anthropic';
import { OpenAIUsageScanner } from '../../src/accounting/usage-stream-openai';
import { EventAligner } from '../../src/gateway/sse-align';
import { SseParser } from '../../src/translate/sse';
import { assertLinear, buildStream, counted, cut, streamRecipe } from './linear-helpers';

/**
 * Steps per stream byte, as the scanners count them (for the hot path's sake, as bounds per chunk
 * rather than byte by byte): finding blank lines (1), each event's lines (1), the hops from brace
 * to brace and up to two looks back from each brace (3); for an event split across chunks, its
 * copy and the doublings (2) and the same walks again in the copy (4); one JSON.parse (2), id and
 * model (2 to 4), the walk of a delta for the estimate (2), and, while an event is held back, the
 * look for `choices` (5). Measured: at most 18.7 on the generated streams.
 */
const C = 24;

function runOpenAI(chunks: Buffer[], hide: boolean): Buffer {
  const s = new OpenAIUsageScanner({ hideUsageChunk: hide });
  const out: Buffer[] = [];
  for (const c of chunks) out.push(s.push(c));
  out.push(s.end());
  return Buffer.concat(out);
}

function runAnthropic(chunks: Buffer[]): Buffer {
  const s = new AnthropicUsageScanner();
  const out: Buffer[] = [];
  for (const c of chunks) out.push(s.push(c));
  out.push(s.end());
  return Buffer.concat(out);
}

function runAligner(chunks: Buffer[]): Buffer {
  const a = new EventAligner();
  const out: Buffer[] = [];
  for (const c of chunks) out.push(a.push(c));
  out.push(a.end() ?? Buffer.alloc(0));
  return Buffer.concat(out);
}

function runParser(chunks: ReadonlyArray<Buffer | string>): number {
  let events = 0;
  const p = new SseParser(() => events++);
  for (const c of chunks) p.push(c);
  p.end();
  return events;
}

test('usage scanners, event aligner and SSE parser: linear in the stream, in any chunking (fast-check)', () => {
  fc.assert(
    fc.property(streamRecipe, (r) => {
      const stream = buildStream(r);
      const chunks = cut(stream, r.chunking);
      const n = stream.length;
      const plain = counted(() => runOpenAI(chunks, false));
      assert.ok(plain.value.equals(stream), 'without filtering the bytes go through as they are');
      assertLinear('OpenAIUsageScanner', n, plain.steps, C);
      assertLinear('OpenAIUsageScanner, hiding the usage chunk', n, counted(() => runOpenAI(chunks, true)).steps, C);
      const anthropic = counted(() => runAnthropic(chunks));
      assert.ok(anthropic.value.equals(stream));
      assertLinear('AnthropicUsageScanner', n, anthropic.steps, C);
      const aligned = counted(() => runAligner(chunks));
      assert.ok(aligned.value.equals(stream), 'the aligner forwards the same bytes');
      assertLinear('EventAligner', n, aligned.steps, C);
      assertLinear('SseParser', n, counted(() => runParser(chunks)).steps, C);
      const text = stream.toString('latin1');
      const pieces = chunks.map((c) => c.toString('latin1'));
      assert.equal(counted(() => runParser(pieces)).value, counted(() => runParser([text])).value, 'the same events in any chunking');
    }),
  );
});

const bytes = (s: string): Buffer[] => Array.from(Buffer.from(s), (c) => Buffer.from([c]));

test('an event that may be the usage chunk, 60 KB delivered byte by byte while held back', () => {
  const event = `data: {"id":"chatcmpl-1","model":"gpt-4o","choices":${' '.repeat(60 * 1024)}[],"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\n`;
  const chunks = bytes(event);
  const { steps, value } = counted(() => runOpenAI(chunks, true));
  assert.equal(value.length, 0, 'still the usage chunk the client did not ask for: dropped');
  assertLinear('OpenAIUsageScanner, held event byte by byte', event.length, steps, C);
});

test('one line of 256 KB without a newline, byte by byte, then its end', () => {
  const stream = `data: {"choices":[{"delta":{"content":"${'x'.repeat(256 * 1024)}"}}]}\r\n\r\n`;
  const chunks = bytes(stream);
  for (const [name, run] of [
    ['OpenAIUsageScanner', () => runOpenAI(chunks, false).length],
    ['OpenAIUsageScanner hiding', () => runOpenAI(chunks, true).length],
    ['AnthropicUsageScanner', () => runAnthropic(chunks).length],
    ['EventAligner', () => runAligner(chunks).length],
    ['SseParser', () => runParser(chunks)],
  ] as const) {
    assertLinear(name, stream.length, counted(run).steps, C);
  }
});

test('an event whose braces all look like usage (20,000 deep) is parsed once', () => {
  const stream = `data: {"a":${'{"usage":'.repeat(20_000)}1${'}'.repeat(20_000)}}\n\n`;
  const { steps } = counted(() => runOpenAI([Buffer.from(stream)], true));
  assertLinear('OpenAIUsageScanner, usage braces', stream.length, steps, C);
});
