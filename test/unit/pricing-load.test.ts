// loadPriceTable: built-in prices extended/overridden by a LiteLLM price map from a URL (a local
// HTTP server here) or a file. LITELLM_LOCAL_MODEL_COST_MAP=True means no fetch. Unreachable
// URLs, timeouts, HTTP errors, bad JSON and missing files keep the built-in table and return a
// warning — loading never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadPriceTable, mergePriceMap } from '../../src/pricing/load';
import { builtinPriceTable } from '../../src/pricing/price-table';
import { costNanos, resolvePrice } from '../../src/pricing/cost';
import { openaiUsage } from '../../src/accounting/usage-types';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/pricing');
const PRICES = path.join(FIXTURES, 'litellm-prices.json');
const BUILTIN = builtinPriceTable();

interface Served {
  url: string;
  hits: () => number;
  close: () => Promise<void>;
}

/** A local HTTP server answering every request with `handler`. */
async function serve(handler: http.RequestListener): Promise<Served> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/model_prices_and_context_window.json`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (body: string, status = 200): http.RequestListener => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
};

/** The loaded table keeps every built-in entry (unless overridden). */
function keepsBuiltins(table: ReadonlyMap<string, unknown>, except: string[] = []): void {
  for (const [k, v] of BUILTIN) if (!except.includes(k)) assert.deepEqual(table.get(k), v, k);
}

test('URL from LITELLM_MODEL_COST_MAP_URL: entries added and overridden, unpriced ones ignored', async () => {
  const s = await serve(json(readFileSync(PRICES, 'utf8')));
  try {
    const r = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: s.url } });
    assert.deepEqual(r.warnings, []);
    assert.equal(r.warning, null);
    assert.deepEqual(r.sources, ['builtin', s.url]);
    assert.equal(s.hits(), 1);
    // gpt-4o, acme/frontier-1, ollama/llama3 taken; sample_spec skipped; image model and string prices ignored
    assert.equal(r.added, 3);
    assert.equal(r.ignored, 2);
    assert.equal(r.table.get('gpt-4o')!.input_cost_per_token, 3e-6);
    assert.equal(r.table.has('sample_spec'), false);
    assert.equal(r.table.has('1024-x-1024/dall-e-2'), false);
    assert.equal(r.table.has('broken/strings'), false);
    assert.equal('supports_function_calling' in r.table.get('gpt-4o')!, false, 'only pricing fields are kept');
    keepsBuiltins(r.table, ['gpt-4o']);
    // the new model prices, with its 272k tier
    const p = resolvePrice(r.table, { model: 'openai/acme/frontier-1' });
    assert.equal(p.key, 'acme/frontier-1');
    assert.equal(costNanos(p, openaiUsage(300_000, 10, 100_000)), 200_000 * 4000 + 100_000 * 400 + 10 * 24_000);
    const free = resolvePrice(r.table, { model: 'ollama/llama3' });
    assert.equal(free.known, true);
    assert.equal(costNanos(free, openaiUsage(10, 10)), 0);
  } finally {
    await s.close();
  }
});

test('LITELLM_LOCAL_MODEL_COST_MAP=True: the URL is not fetched', async () => {
  const s = await serve(json(readFileSync(PRICES, 'utf8')));
  try {
    for (const v of ['True', 'true', '1']) {
      const r = await loadPriceTable({ env: { LITELLM_LOCAL_MODEL_COST_MAP: v, LITELLM_MODEL_COST_MAP_URL: s.url } });
      assert.deepEqual(r.warnings, []);
      assert.deepEqual(r.sources, ['builtin']);
      assert.deepEqual([...r.table.keys()], [...BUILTIN.keys()]);
    }
    assert.equal(s.hits(), 0);
    // False / empty: fetched
    await loadPriceTable({ env: { LITELLM_LOCAL_MODEL_COST_MAP: 'False', LITELLM_MODEL_COST_MAP_URL: s.url } });
    assert.equal(s.hits(), 1);
  } finally {
    await s.close();
  }
});

test('bad JSON, a JSON array, an empty map, HTTP 500: built-ins kept, one warning each', async () => {
  const cases: Array<[http.RequestListener, RegExp]> = [
    [json(readFileSync(path.join(FIXTURES, 'truncated.json'), 'utf8')), /not valid JSON/],
    [json(readFileSync(path.join(FIXTURES, 'array.json'), 'utf8')), /not a JSON object/],
    [json('{"sample_spec":{"input_cost_per_token":0}}'), /no entries with token prices/],
    [json('{"error":"boom"}', 500), /HTTP 500/],
    [json('<html>rate limited</html>', 200), /not valid JSON/],
  ];
  for (const [handler, re] of cases) {
    const s = await serve(handler);
    try {
      const r = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: s.url } });
      assert.equal(r.warnings.length, 1);
      assert.match(r.warning!, re);
      assert.match(r.warning!, /keeping the prices loaded so far/);
      assert.ok(r.warning!.includes(s.url));
      assert.deepEqual(r.sources, ['builtin']);
      assert.equal(r.table.size, BUILTIN.size);
      keepsBuiltins(r.table);
    } finally {
      await s.close();
    }
  }
});

test('unreachable URL: warning, built-ins kept, no throw', async () => {
  const s = await serve(json('{}'));
  const url = s.url;
  await s.close(); // nothing listens on that port any more
  const r = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: url } });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warning!, /could not be read/);
  keepsBuiltins(r.table);
  const bad = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: 'http://nonexistent.invalid/prices.json' }, timeoutMs: 2000 });
  assert.equal(bad.warnings.length, 1);
  keepsBuiltins(bad.table);
});

test('a server that never answers: timed out after timeoutMs', async () => {
  const s = await serve(() => undefined); // accepts, never responds
  try {
    const t0 = Date.now();
    const r = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: s.url }, timeoutMs: 300 });
    const ms = Date.now() - t0;
    assert.match(r.warning!, /timed out/);
    assert.ok(ms >= 250 && ms < 5000, `${ms} ms`);
    keepsBuiltins(r.table);
  } finally {
    await s.close();
  }
});

test('a body larger than maxBytes is refused', async () => {
  const s = await serve(json(readFileSync(PRICES, 'utf8')));
  try {
    const r = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: s.url }, maxBytes: 100 });
    assert.match(r.warning!, /more than the 100 accepted/);
    keepsBuiltins(r.table);
  } finally {
    await s.close();
  }
});

test('local price file (path or file:// URL), applied after the URL', async () => {
  const local = { env: { LITELLM_LOCAL_MODEL_COST_MAP: 'True' }, file: PRICES };
  const r = await loadPriceTable(local);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.sources, ['builtin', PRICES]);
  assert.equal(r.table.get('gpt-4o')!.input_cost_per_token, 3e-6);
  const viaUrl = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: pathToFileURL(PRICES).href } });
  assert.equal(viaUrl.table.get('gpt-4o')!.input_cost_per_token, 3e-6);
  // the file wins over the URL
  const s = await serve(json(JSON.stringify({ 'gpt-4o': { input_cost_per_token: 9e-6, output_cost_per_token: 9e-6 }, 'only-remote': { input_cost_per_token: 1e-6 } })));
  try {
    const both = await loadPriceTable({ env: { LITELLM_MODEL_COST_MAP_URL: s.url }, file: PRICES });
    assert.equal(both.table.get('gpt-4o')!.input_cost_per_token, 3e-6);
    assert.equal(both.table.get('only-remote')!.input_cost_per_token, 1e-6);
    assert.deepEqual(both.sources, ['builtin', s.url, PRICES]);
  } finally {
    await s.close();
  }
  const missing = await loadPriceTable({ ...local, file: path.join(FIXTURES, 'no-such-file.json') });
  assert.match(missing.warning!, /price file .*no-such-file\.json could not be read/);
  keepsBuiltins(missing.table);
});

test('mergePriceMap on its own', () => {
  const m = new Map(BUILTIN);
  assert.equal(mergePriceMap(m, 'nope'), 'not a JSON object keyed by model name');
  assert.equal(mergePriceMap(m, null), 'not a JSON object keyed by model name');
  assert.deepEqual(mergePriceMap(m, { a: { output_cost_per_token: 1e-6, input_cost_per_token: -1 }, b: 7, c: { mode: 'chat' } }), { added: 1, ignored: 2 });
  assert.deepEqual(m.get('a'), { output_cost_per_token: 1e-6 });
});
