// Standard Webhooks (standardwebhooks.com) signing, shared by the verifier of incoming webhooks and
// the notifier of outgoing ones, so the two can never disagree about what is signed.
//
// The signed content is `${webhook-id}.${webhook-timestamp}.${raw body}` (timestamp in seconds),
// the signature `v1,` + base64 of its HMAC-SHA256. A secret `whsec_<base64>` is the base64 key as
// the spec says; any other secret is taken as its UTF-8 bytes, which is what senders that only
// document "a shared secret" do.
import { createHmac } from 'node:crypto';

const PREFIX = 'whsec_';

/** The HMAC key a secret stands for. */
export function standardKey(secret: string): Buffer {
  if (secret.startsWith(PREFIX)) {
    const b64 = secret.slice(PREFIX.length);
    const key = Buffer.from(b64, 'base64');
    // Buffer.from skips what is not base64: only a clean decoding is taken as the spec's form.
    if (key.length > 0 && key.toString('base64').replace(/=+$/, '') === b64.replace(/=+$/, '')) return key;
  }
  return Buffer.from(secret, 'utf8');
}

/** The raw HMAC-SHA256 of `id.timestamp.body` (32 bytes). */
export function standardDigest(key: Buffer, id: string, timestamp: number | string, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value for one secret: `v1,<base64>`. */
export function signStandard(secret: string, id: string, timestamp: number, body: Buffer | string): string {
  return `v1,${standardDigest(standardKey(secret), id, timestamp, body).toString('base64')}`;
}
