// The provider routes: a provider's own API under Weir's prefix (/anthropic/*, /openai/*, /bedrock/*,
// /vertex_ai/*, /gemini/*), forwarded with the operator's credentials. Model calls are governed like
// the gateway's own (model access, budgets, limits, spend); any other provider route (files,
// batches…) is only for callers allowed it, since it runs on the operator's provider credentials.
import { anthropicName } from '../providers/bedrock/target';
import { resolvePrice } from '../pricing/cost';
import type { Exchange } from '../server/exchange';
import { CallAccounting } from './accounting';
import { scanBody } from './body-scan';
import { GatewayError, type Dialect } from './errors';
import { endUserOf, type AccessCheck, type GatewayCore } from './gateway-core';
import type { Identity } from './identity';
import { giveBack } from './lease-wait';
import { checkKey, modelAllowedForKey } from './policy';
import { passThrough, passThroughTarget, providerBase, type PassThroughBilling } from './pass-through';
import { checkPassThroughCaller } from './pass-through-access';
import { bedrockDecode, bedrockPassThroughBase } from './pass-through-bedrock';
import { passThroughDialect, passThroughRoute, type PassThroughRoute } from './pass-through-route';
import { geminiPassage, vertexPassage, withVertexAuth, type VertexPassage } from './pass-through-vertex';
import { completionsAsked, estimateReservation, pricesToReserve } from './reservation';
import type { Snapshot } from './snapshot';

/** A call on a provider route; the path names the provider (and, for some, the model). */
export function providerRoute(core: GatewayCore, ex: Exchange, snap: Snapshot, id: Identity | Promise<Identity>): void {
  const dialect = passThroughDialect(ex.path);
  const route = passThroughRoute(ex.path)!;
  if (route.provider === 'vertex_ai' || route.provider === 'gemini') return googleRoute(core, ex, snap, id, route, dialect);
  const { deps } = core;
  const base = route.provider === 'bedrock' ? bedrockPassThroughBase(process.env) : providerBase(route.provider, process.env);
  const opts = { customKeyHeader: snap.auth.customKeyHeader, timeoutMs: snap.requestTimeoutMs };
  if (!route.llm) {
    const forward = (who: Identity, body: Buffer | null) => {
      checkPassThroughCaller(who, route, deps.entities);
      passThrough(ex, route, base, body, { ...opts, billing: null });
    };
    if (ex.method === 'GET' || ex.method === 'HEAD') return core.afterIdentity(ex, dialect, id, (who) => forward(who, null));
    return core.withBody(ex, snap.maxBodyBytes, dialect, id, forward);
  }
  core.withBody(ex, snap.maxBodyBytes, dialect, id, (who, received) => {
    const scan = scanBody(received);
    if (scan.error) throw new GatewayError(400, scan.error, 'bad_request_error');
    // Bedrock's routes name the model (and stream or not) in the path, not the body.
    const bedrock = route.bedrock;
    if (bedrock) scan.stream = bedrock.stream;
    else if (!scan.model) throw new GatewayError(400, 'Missing required parameter: "model"', 'bad_request_error', 'model');
    const model = bedrock ? bedrock.model : scan.model!;
    const qualified = `${route.provider}/${model}`;
    const access = accessCheck(snap, qualified, model);
    if (route.llm === 'count_tokens') {
      if (who.kind === 'key' && deps.entities) access(who.profile, deps.entities, Date.now());
      return passThrough(ex, route, base, received, { ...opts, billing: null });
    }
    const endpoint = route.llm!;
    const price = resolvePrice(snap.priceTable, { model: qualified, upstreamModel: model, alias: bedrock ? anthropicName(model) : undefined });
    const target = passThroughTarget(route.provider, model, price, base);
    const endUser = endUserOf(ex.headers, scan.user);
    const admit = () => core.admit(who, model, endUser, () => estimateReservation(pricesToReserve(snap, price), received.length, scan.maxTokens, completionsAsked(scan)), access);
    core.leases.admitThen(ex, dialect, admit, (charge) => {
      if (!charge && !deps.journal && !snap.metrics.usage) return passThrough(ex, route, base, received, { ...opts, billing: null });
      const acct = new CallAccounting(scan.stream && endpoint === 'chat', received.length);
      acct.anthropic = route.provider !== 'openai';
      // For a chat stream, the usage chunk is asked for (and hidden again if the client did not ask).
      // A Bedrock body goes as it came: its model is in the path, and the client's signature was dropped.
      const body = bedrock ? received : acct.body(received, scan, target);
      passThrough(ex, route, base, body, { ...opts, billing: { acct, charge, journal: deps.journal, identity: who, endUser, endpoint, target, scan, decode: bedrockDecode(route), metrics: deps.metrics } });
    });
  });
}

/**
 * /vertex_ai/* (and /vertex-ai/*): Vertex AI's own API with Weir's Google credentials (Claude
 * Code's Vertex mode points ANTHROPIC_VERTEX_BASE_URL here); /gemini/*: AI Studio's with Weir's
 * key. Model calls are governed like /anthropic/v1/messages, the model named by the path
 * (`vertex_ai/<model>`, `gemini/<model>` or bare); other routes only for the callers allowed them.
 */
function googleRoute(core: GatewayCore, ex: Exchange, snap: Snapshot, id: Identity | Promise<Identity>, route: PassThroughRoute, dialect: Dialect): void {
  const { deps } = core;
  const opts = { customKeyHeader: snap.auth.customKeyHeader, timeoutMs: snap.requestTimeoutMs };
  const provider = route.provider as 'vertex_ai' | 'gemini';
  const passageOf = (rest: string) => (provider === 'gemini' ? geminiPassage(snap, rest, process.env) : vertexPassage(snap, rest, process.env));
  const send = (passage: VertexPassage, body: Buffer | null, billing: PassThroughBilling | null) => {
    const base = withVertexAuth(passage);
    if (!(base instanceof Promise)) return passThrough(ex, route, base, body, { ...opts, billing });
    const charge = billing?.charge ?? null;
    base.then(
      (b) => {
        // A client gone while the token was fetched, or a setup that throws: the call never starts.
        if (ex.aborted) return giveBack(charge);
        try {
          passThrough(ex, route, b, body, { ...opts, billing });
        } catch (e) {
          giveBack(charge);
          core.fail(ex, dialect, e);
        }
      },
      (e: unknown) => {
        giveBack(charge);
        core.fail(ex, dialect, e);
      },
    );
  };
  if (!route.llm) {
    const forward = (who: Identity, body: Buffer | null) => {
      checkPassThroughCaller(who, route, deps.entities);
      send(passageOf(route.rest), body, null);
    };
    if (ex.method === 'GET' || ex.method === 'HEAD') return core.afterIdentity(ex, dialect, id, (who) => forward(who, null));
    return core.withBody(ex, snap.maxBodyBytes, dialect, id, forward);
  }
  core.withBody(ex, snap.maxBodyBytes, dialect, id, (who, received) => {
    const passage = passageOf(route.rest);
    const scan = scanBody(received);
    if (scan.error) throw new GatewayError(400, scan.error, 'bad_request_error');
    const v = passage.call!;
    // count-tokens names its model in the body; the model calls in the path.
    const model = v.model === 'count-tokens' ? (scan.model ?? v.model) : v.model;
    const qualified = `${provider}/${model}`;
    const access = accessCheck(snap, qualified, model);
    if (route.llm === 'count_tokens') {
      if (who.kind === 'key' && deps.entities) access(who.profile, deps.entities, Date.now());
      return send(passage, received, null);
    }
    const endpoint = route.llm!;
    const price = resolvePrice(snap.priceTable, { model: qualified, upstreamModel: model });
    const endUser = endUserOf(ex.headers, scan.user);
    const admit = () => core.admit(who, model, endUser, () => estimateReservation(pricesToReserve(snap, price), received.length, scan.maxTokens, completionsAsked(scan)), access);
    core.leases.admitThen(ex, dialect, admit, (charge) => {
      if (!charge && !deps.journal && !snap.metrics.usage) return send(passage, received, null);
      const stream = v.method.startsWith('stream');
      const target = passThroughTarget(provider, model, price, passage.base, v.publisher === 'anthropic' ? 'anthropic' : 'gemini');
      const acct = new CallAccounting(false, received.length);
      acct.anthropic = v.publisher === 'anthropic';
      send(passage, received, { acct, charge, journal: deps.journal, identity: who, endUser, endpoint, target, scan: stream === scan.stream ? scan : { ...scan, stream }, metrics: deps.metrics });
    });
  });
}

/** A key's access to a provider route's model: its list may name it bare or provider-qualified (`anthropic/claude-…`). */
function accessCheck(snap: Snapshot, qualified: string, model: string): AccessCheck {
  return (p, entities, now) =>
    checkKey(entities, p, modelAllowedForKey(p, qualified, snap.accessGroups) ? qualified : model, snap.accessGroups, now);
}
