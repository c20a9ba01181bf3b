// Is this webhook delivery from the sender the job trusts? One function per scheme a job's
// `webhook.verify` names, each checking the signature over the raw body bytes (never a re-encoding)
// with a constant-time compare, and answering with the delivery's id (for replay protection) and
// event name (for `webhook.events`). Messages say what is wrong, never the secret or the expected
// signature. The body is parsed only once the signature holds, so an unsigned sender cannot make
// us parse anything.
import { createHmac, createHash, timingSafeEqual } from 'node:crypto';
import type { WebhookSpec } from './types';
import { standardDigest, standardKey } from './standard-webhooks';

export type VerifyResult =
  | {
      ok: true;
      deliveryId: string | null;
      event: string | null;
      /** The body parsed as JSON (GitHub's form encoding too); the raw text when it is not JSON
       *  (only `github` refuses that); null for an empty body. */
      payload: unknown;
    }
  | { ok: false; status: 401 | 400; message: string };

/** Standard Webhooks' tolerance for the sender's clock, both ways. */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;
/** Delivery ids longer than this are stored as their hash (the column is a primary key). */
const MAX_DELIVERY_ID = 200;

const fail = (status: 401 | 400, message: string): VerifyResult => ({ ok: false, status, message });

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hmacHex(secret: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** `abc…` or `sha256=abc…` (any case) → the bytes; null when it is not 64 hex digits. */
function hexSignature(v: string): Buffer | null {
  const hex = v.trim().replace(/^sha256=/i, '');
  return /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : null;
}

function deliveryIdOf(v: string | undefined): string | null {
  const id = v?.trim();
  if (!id) return null;
  return id.length <= MAX_DELIVERY_ID ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The body as data: JSON, GitHub's `payload=<urlencoded JSON>` form, else the text itself. */
function payloadOf(headers: Record<string, string>, body: Buffer): { json: boolean; value: unknown } {
  const text = body.toString('utf8');
  if (text.trim() === '') return { json: false, value: null };
  if ((headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(text).get('payload');
    const p = form === null ? null : parseJson(form);
    if (p?.ok) return { json: true, value: p.value };
  }
  const p = parseJson(text);
  return p.ok ? { json: true, value: p.value } : { json: false, value: text };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const field = (payload: unknown, name: string): unknown =>
  payload !== null && typeof payload === 'object' && !Array.isArray(payload) && Object.hasOwn(payload, name) ? (payload as Record<string, unknown>)[name] : undefined;

/** GitHub's `X-GitHub-Event` plus `.action`; else an `x-event-type` header; else the payload's `type`. */
function eventOf(headers: Record<string, string>, payload: unknown): string | null {
  const gh = str(headers['x-github-event']?.trim());
  if (gh) {
    const action = str(field(payload, 'action'));
    return action ? `${gh}.${action}` : gh;
  }
  return str(headers['x-event-type']?.trim()) ?? str(headers['x-event']?.trim()) ?? str(field(payload, 'type'));
}

function accepted(headers: Record<string, string>, body: Buffer, deliveryHeader: string | undefined, requireJson: boolean): VerifyResult {
  const p = payloadOf(headers, body);
  if (requireJson && !p.json) return fail(400, 'the body is not JSON');
  return { ok: true, deliveryId: deliveryIdOf(deliveryHeader), event: eventOf(headers, p.value), payload: p.value };
}

function verifyGithub(spec: WebhookSpec, headers: Record<string, string>, body: Buffer): VerifyResult {
  const header = headers['x-hub-signature-256'];
  if (!header) return fail(401, 'missing X-Hub-Signature-256 header');
  const got = hexSignature(header);
  if (!got || !/^\s*sha256=/i.test(header)) return fail(401, 'X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits');
  if (!sameBytes(got, hmacHex(spec.secret ?? '', body))) return fail(401, 'X-Hub-Signature-256 does not match the body (wrong secret, or the body was changed)');
  return accepted(headers, body, headers['x-github-delivery'], true);
}

function verifyStandard(spec: WebhookSpec, headers: Record<string, string>, body: Buffer, now: Date): VerifyResult {
  const id = headers['webhook-id']?.trim();
  const ts = headers['webhook-timestamp']?.trim();
  const sigs = headers['webhook-signature'];
  const absent = [!id && 'webhook-id', !ts && 'webhook-timestamp', !sigs && 'webhook-signature'].filter(Boolean);
  if (absent.length) return fail(401, `missing ${absent.join(', ')} header${absent.length > 1 ? 's' : ''}`);
  if (!/^\d{1,12}$/.test(ts!)) return fail(400, 'webhook-timestamp is not a number of seconds');
  const skew = Number(ts) - Math.floor(now.getTime() / 1000);
  if (skew < -TIMESTAMP_TOLERANCE_S) return fail(401, `webhook-timestamp is ${-skew} s old (at most ${TIMESTAMP_TOLERANCE_S} s is accepted)`);
  if (skew > TIMESTAMP_TOLERANCE_S) return fail(401, `webhook-timestamp is ${skew} s in the future (at most ${TIMESTAMP_TOLERANCE_S} s is accepted)`);
  const expected = standardDigest(standardKey(spec.secret ?? ''), id!, ts!, body);
  // A space-separated list, so a sender rotating its secret can sign with the old and the new one;
  // versions other than v1 (v1a is asymmetric) are not ours to check and are skipped.
  let versions = 0;
  for (const entry of sigs!.trim().split(/\s+/)) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    versions++;
    if (sameBytes(Buffer.from(entry.slice(comma + 1), 'base64'), expected)) return accepted(headers, body, id, false);
  }
  return fail(401, versions ? 'webhook-signature does not match (wrong secret, or the id, timestamp or body was changed)' : 'webhook-signature has no "v1,<base64>" signature');
}

function verifyHmac(spec: WebhookSpec, headers: Record<string, string>, body: Buffer): VerifyResult {
  const name = (spec.header ?? 'x-signature').toLowerCase();
  const header = headers[name];
  if (!header) return fail(401, `missing ${name} header`);
  const got = hexSignature(header);
  if (!got) return fail(401, `${name} is not 64 hex digits (optionally after "sha256=")`);
  if (!sameBytes(got, hmacHex(spec.secret ?? '', body))) return fail(401, `${name} does not match the body (wrong secret, or the body was changed)`);
  return accepted(headers, body, headers['x-delivery-id'] ?? headers['x-request-id'], false);
}

/** `headers` with lower-case names; `body` the raw bytes as received. */
export function verifyWebhook(spec: WebhookSpec, headers: Record<string, string>, body: Buffer, now: Date): VerifyResult {
  // The config and the API refuse such a job; an HMAC keyed with "" is one anybody can compute.
  if (spec.verify !== 'none' && !spec.secret) return fail(401, `this hook verifies "${spec.verify}" signatures but has no secret configured`);
  switch (spec.verify) {
    case 'github':
      return verifyGithub(spec, headers, body);
    case 'standard':
      return verifyStandard(spec, headers, body, now);
    case 'hmac':
      return verifyHmac(spec, headers, body);
    case 'none':
      return accepted(headers, body, headers['x-github-delivery'] ?? headers['webhook-id'] ?? headers['x-delivery-id'] ?? headers['x-request-id'], false);
  }
}

/** `issues` matches every `issues.*`; `issues.opened` only itself; `*` and no list (or an empty one) match all. */
export function eventMatches(events: string[] | undefined, event: string | null): boolean {
  if (!events || events.length === 0) return true;
  if (event === null) return false;
  for (const e of events) {
    if (e === event || e === '*' || (event.startsWith(e) && event.charCodeAt(e.length) === 0x2e)) return true;
  }
  return false;
}
