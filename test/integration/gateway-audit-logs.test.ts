// litellm_settings.store_audit_logs reaches the management API Weir serves: each change of a key
// made through it leaves a LiteLLM_AuditLog row, as in LiteLLM; without the setting, none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { type Weir, adminOk, closeAndCheckLedgers, dbPool, governanceConfig, ledgerDatabase, rows, startMock, startWeirOn, writeConfigFile } from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('gw_audit_logs');
  pool = dbPool(db);
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db, { litellm: '  store_audit_logs: true' })), { workers: 1 });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close(), () => pool?.end());
});

test('store_audit_logs: true → a LiteLLM_AuditLog row for a key created and one for its update', async () => {
  const k = await adminOk(weir.url, '/key/generate', { key_alias: 'audited' });
  await adminOk(weir.url, '/key/update', { key: k.key, max_budget: 5 });
  const log = await rows(pool, `SELECT action, table_name, object_id FROM "LiteLLM_AuditLog" ORDER BY updated_at`);
  assert.deepEqual(log.map((r) => [r.action, r.table_name, r.object_id]), [
    ['created', 'LiteLLM_VerificationToken', k.token],
    ['updated', 'LiteLLM_VerificationToken', k.token],
  ]);
});
