// POST /v1/messages/count_tokens (Claude Code calls it, with ?beta=true): an Anthropic deployment
// answers through its own endpoint under its configured api_base; any other gets a local estimate.
// Either way the answer is {"input_tokens": N}, never a 404. Not billed. A deployment with a wire
// (providers/wire.ts) counts through the provider's own counting when it has one, else estimates.
import { ANTHROPIC_DEFAULT_VERSION } from '../providers/anthropic';
import { subPath } from '../providers/base-url';
import { liveWire, type WireSpec } from '../providers/wire';
import { type Exchange, JSON_TYPE } from '../server/exchange';
import { estimateTokens } from '../translate';
import { replaceModel, type BodyScan } from './body-scan';
import { GatewayError } from './errors';
import { MAX_JSON_DEPTH, tooDeepError } from './json-depth';
import type { ModelGroup } from './snapshot';
import { fromUpstreamFailure, fromUpstreamStatus } from './upstream-error';
import { callPoolFor } from './upstream-pool';
import { requestWhole, WholeAnswerTimeout } from './whole-answer';

export async function countTokens(ex: Exchange, group: ModelGroup, body: Buffer, scan: BodyScan): Promise<{ status: number; body: string; headers: string[] }> {
  const t = group.targets.find((x) => x.dialect === 'anthropic' && x.unavailable === null);
  const counting = t?.wire ? liveWire(t as typeof t & { wire: WireSpec }).countTokens : undefined;
  if (!t || counting === null) return estimate(body, scan);
  // The upstream call ends with its client.
  const abort = new AbortController();
  ex.onAbort(() => abort.abort());
  let upstreamBody = t.upstreamModel === scan.model ? body : replaceModel(body, scan, t.upstreamModelJson);
  let path = subPath(t.path, '/count_tokens');
  let headers: string[];
  if (counting) {
    path = counting.path;
    upstreamBody = counting.body(upstreamBody, ex.headers);
    const w = liveWire(t as typeof t & { wire: WireSpec });
    headers = t.headers.concat('content-type', 'application/json');
    if (w.dialectHeaders) addAnthropicHeaders(ex, headers);
    try {
      headers.push(...(await w.sign('POST', path, headers, upstreamBody)));
    } catch (e) {
      throw fromUpstreamFailure(e as Error, t, false, t.timeoutMs);
    }
  } else {
    headers = t.headers.concat('content-type', 'application/json');
    addAnthropicHeaders(ex, headers);
  }
  try {
    const res = await requestWhole(callPoolFor(t.origin), { path, method: 'POST', headers, body: upstreamBody }, t.timeoutMs, abort.signal);
    const text = res.body;
    // A provider's counting that does not serve this model (Bedrock's CountTokens serves some): the estimate.
    if (counting && (res.status === 400 || res.status === 404)) return estimate(body, scan);
    if (res.status >= 400) throw fromUpstreamStatus(res.status, res.headers, text, t);
    return { status: 200, body: counting ? counting.answer(text) : text.toString('utf8'), headers: JSON_TYPE };
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    throw fromUpstreamFailure(e as Error, t, e instanceof WholeAnswerTimeout, t.timeoutMs);
  }
}

function estimate(body: Buffer, scan: BodyScan): { status: number; body: string; headers: string[] } {
  // The estimate walks tool_result content recursively: bound the nesting first.
  if (scan.depth > MAX_JSON_DEPTH) throw tooDeepError();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new GatewayError(400, 'Request body is not valid JSON.', 'bad_request_error');
  }
  if (!Array.isArray(parsed.messages)) throw new GatewayError(400, 'messages: a list of messages is required', 'bad_request_error', 'messages');
  return { status: 200, body: JSON.stringify({ input_tokens: estimateTokens(parsed) }), headers: JSON_TYPE };
}

function addAnthropicHeaders(ex: Exchange, headers: string[]): void {
  headers.push('anthropic-version', ex.headers['anthropic-version'] || ANTHROPIC_DEFAULT_VERSION);
  if (ex.headers['anthropic-beta']) headers.push('anthropic-beta', ex.headers['anthropic-beta']);
}
