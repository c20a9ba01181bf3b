// What one attempt of a model call sends upstream, and how it hands it to the client: the
// client's bytes (the model spliced when the deployment names another), a translation, the
// provider's parameter rules over either; then the body whole, lent, or in pieces.
//
// A translation the cache assembled comes as its kept parts (translation-cache.ts) and goes out
// as they are, in one writev; it is joined into one buffer only where something reads the body
// after it: parameter rules, a provider wire (which maps and signs it), the built-in mock.
import type { Dispatcher } from 'undici';
import { isLent, LentBody } from '../server/large-buffers';
import type { CallAccounting } from './accounting';
import { replaceModel, type BodyScan } from './body-scan';
import type { Endpoint } from './call-record';
import { applyParamRules } from './param-rules';
import type { Target } from './snapshot';
import type { Translation } from './translation';
import type { CallPool } from './upstream-pool';
import { pushLength } from './upstream-request';

/** An attempt's body: whole bytes, or a translation's pieces that nothing reads before they are sent. */
export type AttemptBody = { whole: Buffer; pieces: null } | { whole: null; pieces: readonly Buffer[] };

/**
 * The body of an attempt at `t`. Throws what the translation or the parameter rules refuse (a
 * GatewayError, or an Error for the caller to wrap).
 */
export function attemptBody(t: Target, endpoint: Endpoint, client: Buffer, scan: BodyScan, xlate: Translation | null, acct: CallAccounting | null): AttemptBody {
  const rules = t.paramRules && endpoint !== 'embeddings' ? t.paramRules : null;
  let body: Buffer;
  if (xlate) {
    const translated = xlate.request(t);
    acct?.translated();
    if (!Array.isArray(translated)) body = translated as Buffer;
    else if (rules === null && !t.wire && t.provider !== 'mock') return { whole: null, pieces: translated };
    else body = Buffer.concat(translated);
  } else {
    // A wire puts the model where its provider wants it (the path): the client's stays in the body it maps.
    body = acct ? acct.body(client, scan, t) : t.upstreamModel === scan.model || t.wire ? client : replaceModel(client, scan, t.upstreamModelJson);
  }
  // A chat body (the client's, or a translation's): the provider's parameter rules.
  if (rules !== null) body = applyParamRules(body, rules, t.provider, t.upstreamModel, xlate !== null);
  return { whole: body, pieces: null };
}

/**
 * Sends an attempt's body through `pool`. A body in a reused buffer (large-buffers.ts) goes as a
 * LentBody, which tells when the client is done writing it, and so do a translation's pieces when
 * the client's own buffer is lent; only the first attempt lends (a retry sends the client's body
 * again, so after one the call's buffers are left to the GC). Returns the LentBody the call gives
 * back when its answer completes, or null.
 */
export function sendAttempt(pool: CallPool, path: string, headers: string[], body: AttemptBody, client: Buffer, first: boolean, translated: boolean, handler: Dispatcher.DispatchHandler): LentBody | null {
  let lent: LentBody | null = null;
  if (body.pieces !== null) {
    pushLength(headers, body.pieces);
    if (first && isLent(client)) lent = new LentBody(body.pieces, client);
    pool.dispatch({ path, method: 'POST', headers, body: lent ?? body.pieces }, handler);
    return lent;
  }
  const whole = body.whole;
  if (first && isLent(whole)) {
    const clientsToo = whole !== client && isLent(client) && translated;
    lent = new LentBody(whole, clientsToo ? client : null);
    headers.push('content-length', String(whole.length));
  }
  pool.dispatch({ path, method: 'POST', headers, body: lent ?? whole }, handler);
  return lent;
}
