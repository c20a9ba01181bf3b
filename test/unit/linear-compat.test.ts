// The scans the provider table and Ollama's native API add are linear in their input (src/scan-steps.ts):
// the parameter rules' walk of a body's top-level members (many members, keys spelled with
// escapes, long values), and the NDJSON stream of Ollama (long lines, many lines, cut byte by
// byte or at random).
import { test } from 'node:test';
import fc from 'fast-check';
import { applyParamRules, paramRules } from '../../src/gateway/param-rules';
import { OllamaToOpenAIStream } from '../../src/translate/ollama-response';
import { assertLinear, bodyRecipe, buildBody, counted } from './linear-helpers';

const RULES = paramRules({ unsupported: ['tools', 'n', 'user', 'logprobs'], renames: [['max_completion_tokens', 'max_tokens']] }, true, ['stream_options'])!;

test('parameter rules: one walk of the top-level members, linear in the body (fast-check)', () => {
  fc.assert(
    fc.property(bodyRecipe, fc.integer({ min: 0, max: 400 }), (r, extra) => {
      const members = Array.from({ length: extra }, (_, i) => `"${i % 3 ? 'to\\u006fls' : 'max_completion_tokens'}":${'['.repeat(i % 5)}${']'.repeat(i % 5) || '1'}`);
      const base = buildBody(r);
      const b = members.length ? Buffer.concat([Buffer.from(`{${members.join(',')},`), base.subarray(base.indexOf('{') + 1)]) : base;
      const { steps } = counted(() => {
        try {
          return applyParamRules(b, RULES, 'p', 'm', false);
        } catch {
          return b;
        }
      });
      assertLinear('applyParamRules', b.length, steps, 8);
    }),
  );
});

const line = fc.oneof(
  fc.string({ maxLength: 30 }).map((t) => JSON.stringify({ model: 'm', message: { role: 'assistant', content: t }, done: false })),
  fc.integer({ min: 1, max: 20000 }).map((n) => JSON.stringify({ model: 'm', message: { role: 'assistant', content: 'x'.repeat(n) }, done: false })),
  fc.constant(JSON.stringify({ model: 'm', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: [1, 2, { b: 'c' }] } } }] }, done: false })),
  fc.constant('{"model":"m","message":{"role":"assistant","content":"\\u00e9\\n'),
  fc.constant(''),
);

test('Ollama NDJSON stream: linear in the stream, in any chunking (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 60 }), fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 5000 })), (lines, cut) => {
      const stream = Buffer.from(`${lines.join('\n')}\n${JSON.stringify({ model: 'm', done: true, prompt_eval_count: 1, eval_count: 2 })}\n`);
      const { steps } = counted(() => {
        const s = new OllamaToOpenAIStream('chat', true);
        for (let i = 0; i < stream.length; i += cut) s.push(stream.subarray(i, i + cut));
        return s.end();
      });
      assertLinear('OllamaToOpenAIStream', stream.length, steps, 8);
    }),
  );
});
