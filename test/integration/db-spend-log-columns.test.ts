// The SpendLogs rows written a column array at a time (spend-log-columns.ts) are byte for byte the
// rows spendLogRow() describes (the row LiteLLM writes), written one bind parameter per value into
// a copy of the table: every column of every row compared as PostgreSQL renders it, for records
// with every optional part, odd text (quotes, backslashes, braces, "NULL", NUL, lone surrogates),
// extreme numbers and timestamps, in one statement or split into statements of a few rows; and an
// id taken by an earlier row is still re-keyed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { SpendRecord } from '../../src/accounting/spend-record';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { cleanId, normalizeRecord, spendLogRow } from '../../src/db/spend-rows';
import { SpendLogRows } from '../../src/db/spend-log-columns';
import { insertRows, insertSpendLogRows, insertSpendLogs } from '../../src/db/spend-sql';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { rec } from '../support/journal-record';

after(() => stopTestPostgres());

const odd = fc.oneof(
  fc.constantFrom('', 'NULL', 'null', ' x ', '{a,b}', '"q"', 'back\\slash', '\\"', 'a\u0000b', '\uD800', 'ümlaut ✓', '[]', '{}', '$1', `x'); DROP TABLE t; --`),
  fc.string({ unit: 'binary', maxLength: 24 }),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const when = fc.integer({ min: 946_684_800_001, max: 7_258_118_399_999 });

const record: fc.Arbitrary<SpendRecord> = fc
  .record({
    i: fc.nat(),
    call_id: fc.option(odd, { nil: undefined }),
    upstream_request_id: fc.option(odd, { nil: undefined }),
    api_key: odd,
    spend_nanos: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: 10 ** 15 })),
    prompt_tokens: fc.oneof(fc.nat(), fc.constant(2_147_483_647)),
    completion_tokens: fc.oneof(fc.nat(), fc.constant(2_147_483_647)),
    cache_read_input_tokens: fc.nat(),
    cache_creation_input_tokens: fc.nat(),
    start_ms: when,
    dur: fc.integer({ min: -5, max: 10 ** 7 }),
    model: odd,
    user_id: odd,
    team_id: maybe(odd),
    organization_id: maybe(odd),
    end_user: maybe(odd),
    key_alias: maybe(odd),
    team_alias: maybe(odd),
    request_tags: fc.array(odd, { maxLength: 3 }),
    session_id: odd,
    failure: fc.boolean(),
    error: fc.option(fc.record({ status: fc.integer({ min: 0, max: 999 }), message: odd, type: odd }), { nil: undefined }),
    requester_ip_address: maybe(odd),
    spend_logs_metadata: maybe(fc.dictionary(odd, fc.oneof(odd, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })), { maxKeys: 3 })),
    overhead_ms: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0, 0.3, 1e-7, 5e21)),
    attempted_retries: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ i, dur, failure, ...f }) => {
    const raw: Partial<SpendRecord> = {
      ...rec(i),
      ...f,
      request_id: `id-${i}-${f.api_key}`,
      end_ms: f.start_ms + dur,
      completion_start_ms: f.start_ms + Math.floor(dur / 2),
      status: failure ? 'failure' : 'success',
    };
    if (raw.call_id === undefined) delete raw.call_id;
    if (raw.error === undefined) delete raw.error;
    const n = normalizeRecord(raw, `seg:${i}`);
    // normalizeRecord keeps no upstream id (the writer sets it when it re-keys); keep the drawn one.
    return f.upstream_request_id === undefined ? n : { ...n, upstream_request_id: cleanId(f.upstream_request_id) };
  });

test('the column-array INSERT stores exactly the rows spendLogRow describes', async () => {
  const pool = createPool(await freshDatabase('spend_cols'));
  try {
    await ensureSchema(pool);
    await pool.query(`CREATE TABLE "ref_spendlogs" (LIKE "LiteLLM_SpendLogs" INCLUDING DEFAULTS)`);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(record, { minLength: 1, maxLength: 40, selector: (r) => r.request_id }), async (records) => {
        round++;
        const client = await pool.connect();
        try {
          await client.query('TRUNCATE "LiteLLM_SpendLogs", "ref_spendlogs"');
          if (round % 2) await insertSpendLogs({ owner: pool, client }, records);
          else {
            // Statements of 7 rows, the records added one at a time as the spend writer does.
            const built = new SpendLogRows(7);
            for (const r of records) built.add(r);
            assert.equal(built.statements().length, Math.ceil(records.length / 7));
            await insertSpendLogRows({ owner: pool, client }, built, () => records);
          }
          const rows = records.map(spendLogRow);
          const cols = Object.keys(rows[0]!);
          await insertRows(client, 'ref_spendlogs', cols, rows.map((r) => cols.map((c) => r[c])));
          const diff = await client.query(
            `SELECT a.request_id AS a, b.request_id AS b, row_to_json(a)::text AS got, row_to_json(b)::text AS want
               FROM "LiteLLM_SpendLogs" a FULL JOIN "ref_spendlogs" b USING ("request_id")
              WHERE row_to_json(a)::text IS DISTINCT FROM row_to_json(b)::text`,
          );
          assert.deepEqual(diff.rows, [], `round ${round}`);
          const n = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "LiteLLM_SpendLogs"`);
          assert.equal(Number(n.rows[0]!.n), records.length);
        } finally {
          client.release();
        }
      }),
      { numRuns: 60 },
    );
    assert.equal(round, 60);
  } finally {
    await pool.end();
  }
});

test('an id already in the table is written again under the call id, and the same call is not written twice', async () => {
  const pool = createPool(await freshDatabase('spend_cols_rekey'));
  try {
    await ensureSchema(pool);
    const client = await pool.connect();
    try {
      const first = normalizeRecord(rec(1, { request_id: 'chatcmpl-same', call_id: 'call-1' }), 'a');
      await insertSpendLogs({ owner: pool, client }, [first]);
      const second = normalizeRecord(rec(2, { request_id: 'chatcmpl-same', call_id: 'call-2' }), 'b');
      // The same call again (a re-read) and another call that got the same upstream id.
      await insertSpendLogs({ owner: pool, client }, [first, second]);
      const rows = await client.query<{ request_id: string; up: string | null }>(
        `SELECT request_id, metadata->>'upstream_request_id' AS up FROM "LiteLLM_SpendLogs" ORDER BY request_id`,
      );
      assert.deepEqual(rows.rows, [
        { request_id: 'call-2', up: 'chatcmpl-same' },
        { request_id: 'chatcmpl-same', up: null },
      ]);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});
