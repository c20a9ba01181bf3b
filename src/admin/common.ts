// What every management handler shares: who is acting (for created_by / updated_by), the clock,
// the transaction, and the change notifications sent once the transaction has committed.
import { createHash, randomUUID } from 'node:crypto';
import type { AdminContext, AdminRequest, EntityKind } from './types';
import { type Db, type Row, insertRow, q1, readDb, withTx } from './db';
import { roleOf } from './roles';

/** LiteLLM's `litellm_proxy_admin_name`: the user id the master key acts as. */
export const PROXY_ADMIN_NAME = 'default_user_id';

export interface Call {
  req: AdminRequest;
  ctx: AdminContext;
}

export type Handler = (call: Call) => Promise<unknown>;

export interface Op {
  db: Db;
  ctx: AdminContext;
  req: AdminRequest;
  /** Value for created_by / updated_by. */
  actor: string;
  now: Date;
  nowIso: string;
  notify(kind: EntityKind, ids: Iterable<string>): void;
  /** A LiteLLM_AuditLog row in the same transaction, when settings.storeAuditLogs is on. */
  audit(action: AuditAction, table: string, objectId: string, before: Row | null, after: Row | null): Promise<void>;
}

/** LiteLLM's AuditLogActions. */
export type AuditAction = 'created' | 'updated' | 'deleted' | 'blocked' | 'rotated';

async function actorOf(call: Call): Promise<string> {
  const { req, ctx } = call;
  if (req.changedBy) return req.changedBy;
  const c = req.caller;
  if (c.isMasterKey || c.open) return PROXY_ADMIN_NAME;
  // A login session carries its user and no key.
  if (!c.keyHash) return c.userId ?? PROXY_ADMIN_NAME;
  const row = await q1<{ user_id: string | null }>(readDb(ctx.db), `SELECT user_id FROM "LiteLLM_VerificationToken" WHERE token = $1`, [c.keyHash]);
  return row?.user_id ?? c.keyHash;
}

/**
 * Runs a mutation in one transaction; notifications go out only after COMMIT. `oneStatement`: the
 * caller knows fn makes a single statement (and no audit row), which is atomic by itself, so the
 * BEGIN and COMMIT round trips are left out (agent runs mint their keys on every start).
 */
export async function mutate<T>(call: Call, fn: (op: Op) => Promise<T>, opts: { oneStatement?: boolean } = {}): Promise<T> {
  const actor = await actorOf(call);
  const pending = new Map<EntityKind, Set<string>>();
  const now = call.ctx.now();
  const run = (work: (db: Db) => Promise<T>) => (opts.oneStatement ? work(readDb(call.ctx.db)) : withTx(call.ctx.db, work));
  const out = await run((db) =>
    fn({
      db,
      ctx: call.ctx,
      req: call.req,
      actor,
      now,
      nowIso: now.toISOString(),
      async audit(action, table, objectId, before, after) {
        if (!call.ctx.settings.storeAuditLogs) return;
        await insertRow(db, 'LiteLLM_AuditLog', {
          id: newId(),
          updated_at: now.toISOString(),
          changed_by: call.req.changedBy ?? actor,
          changed_by_api_key: call.req.caller.keyHash ?? '',
          action,
          table_name: table,
          object_id: objectId,
          before_value: before,
          updated_values: after,
        });
      },
      notify(kind, ids) {
        let s = pending.get(kind);
        if (!s) pending.set(kind, (s = new Set()));
        for (const id of ids) if (id) s.add(id);
      },
    }),
  );
  // The change is committed: a failing listener must not turn it into an error answer.
  for (const [kind, ids] of pending) {
    if (ids.size === 0) continue;
    try {
      call.ctx.onChange(kind, [...ids]);
    } catch {
      /* the listener's own problem; the shared state catches up on the next sync */
    }
  }
  return out;
}

export const newId = (): string => randomUUID();

export function hashToken(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Management endpoints take a key as the raw `sk-…` value or as its hash (`_hash_token_if_needed`). */
export function tokenOf(keyOrHash: string): string {
  return keyOrHash.startsWith('sk-') ? hashToken(keyOrHash) : keyOrHash;
}

/** `sk-...abcd` (`abbreviate_api_key`). */
export function keyName(key: string): string {
  return `sk-...${key.slice(-4)}`;
}

/** Drops undefined members (fields the request did not set). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}

/** A proxy admin: the master key, a proxy_admin user's key, or anyone when no master key is set. */
export function isAdmin(req: AdminRequest): boolean {
  return roleOf(req.caller) === 'proxy_admin';
}
