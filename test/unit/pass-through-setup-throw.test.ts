// A pass-through call whose dispatch throws before any request exists (an upstream origin undici
// cannot take, as `OPENAI_API_BASE=ftp://…` gives) leaves no timer behind: its 600 s watchdog held
// the call (the exchange, the body) until it fired.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderBase } from '../../src/gateway/pass-through';
import { passThrough } from '../../src/gateway/pass-through';
import type { PassThroughRoute } from '../../src/gateway/pass-through-route';
import type { Exchange } from '../../src/server/exchange';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a pass-through whose dispatch throws leaves no timeout armed', () => {
  const ex = {
    method: 'POST',
    path: '/openai/v1/chat/completions',
    query: '',
    headers: { 'content-type': 'application/json' },
    startedAt: 0,
    aborted: false,
    onAbort: () => {},
  } as unknown as Exchange;
  const route = { provider: 'openai', rest: '/v1/chat/completions', llm: null, streamDialect: 'openai' } as unknown as PassThroughRoute;
  const base: ProviderBase = { origin: 'ftp://127.0.0.1:1', basePath: '', query: '', apiBase: 'ftp://127.0.0.1:1', auth: [] };
  const before = timers();
  assert.throws(() => passThrough(ex, route, base, Buffer.from('{}'), { customKeyHeader: null, timeoutMs: 600_000, billing: null }));
  assert.equal(timers(), before, 'the call watchdog was cleared with the throw');
});
