// The routes a worker answers by asking the control thread, which owns what they need: the admin
// API (the database), agent runs, the metrics of every worker, config reloads. The worker checks
// the caller, reads the body and relays; readiness is answered from the shared status.
import { type Exchange, JSON_TYPE } from '../server/exchange';
import { CONTENT_TYPE as METRICS_TYPE } from '../metrics/text-format';
import { adminCall } from './admin-relay';
import { isAttachPath, relayAttach } from './agent-attach';
import { AGENT_MAX_BODY_BYTES, agentCall, respondRelayed, wantsEventStream } from './agent-relay';
import { GatewayError } from './errors';
import { ADMIN_MAX_BODY_BYTES, type GatewayCore } from './gateway-core';
import type { Identity } from './identity';
import type { Snapshot } from './snapshot';

/** The control thread did not answer: a 500 saying so. */
function unreachable(core: GatewayCore, ex: Exchange): (e: unknown) => void {
  return (e) => core.fail(ex, 'openai', new GatewayError(500, `control thread: ${(e as Error).message}`));
}

/** LiteLLM's management API (/key/*, /team/*, /spend/*…): run on the control thread. */
export function relayAdmin(core: GatewayCore, ex: Exchange, id: Identity | Promise<Identity>): void {
  core.withBody(ex, ADMIN_MAX_BODY_BYTES, 'openai', id, (who, body) => {
    const call = adminCall(ex, who, body);
    core.deps.rpc('admin', call).then((r) => ex.respond(r.status, JSON_TYPE, JSON.stringify(r.body)), unreachable(core, ex));
  });
}

/** Agent runs live on the control thread; a webhook (no caller) is authenticated there by its signature. */
export function relayAgent(core: GatewayCore, ex: Exchange, id: Identity | Promise<Identity> | null): void {
  const { deps } = core;
  if (id && isAttachPath(ex.path)) return core.afterIdentity(ex, 'openai', id, (who) => relayAttach(ex, agentCall(ex, who, null), deps.rpc, deps.openStream));
  const relay = (who: Identity | null, body: Buffer | null) => {
    const call = agentCall(ex, who, body);
    if (wantsEventStream(ex)) return relayStream(core, ex, call);
    deps.rpc('agent', call).then((r) => respondRelayed(ex, r), unreachable(core, ex));
  };
  if (id) return core.withBody(ex, AGENT_MAX_BODY_BYTES, 'openai', id, relay);
  ex.readBody(AGENT_MAX_BODY_BYTES, (body, tooLarge) => {
    if (tooLarge || !body) return core.fail(ex, 'openai', new GatewayError(413, `Request body is larger than ${AGENT_MAX_BODY_BYTES / (1024 * 1024)} MB`, 'request_too_large'));
    relay(null, body);
  });
}

/** A run's events as server-sent events, relayed from the control thread until the client leaves. */
function relayStream(core: GatewayCore, ex: Exchange, call: unknown): void {
  let started = false;
  const close = core.deps.openStream('agent.events', call, {
    head: (status, headers) => {
      if (ex.aborted) return;
      started = true;
      ex.startStream(status, headers);
    },
    data: (chunk) => {
      if (!ex.aborted && started) ex.write(chunk);
    },
    end: () => {
      if (ex.aborted) return;
      if (started) ex.end();
      else ex.respond(500, JSON_TYPE, JSON.stringify({ error: { message: 'event stream ended before it started', type: 'internal_server_error', param: null, code: '500' } }));
    },
  });
  ex.onAbort(close);
}

/** /metrics: rendered by the control thread (it owns every shard); the worker only relays. */
export function relayScrape(core: GatewayCore, ex: Exchange): void {
  core.deps.rpc('metrics', null).then(
    (r) => (r.status === 200 ? ex.respond(200, ['content-type', METRICS_TYPE], String(r.body)) : ex.respond(r.status, JSON_TYPE, JSON.stringify(r.body))),
    unreachable(core, ex),
  );
}

/** /health/readiness, from the status the control thread shares. */
export function readiness(core: GatewayCore, ex: Exchange, snap: Snapshot): void {
  const db = core.deps.status.db();
  const redis = core.deps.status.redis();
  const down = db === 'down';
  const status = down && !snap.allowRequestsOnDbUnavailable ? 503 : 200;
  ex.respond(status, JSON_TYPE, JSON.stringify({
    status: down ? 'unhealthy' : 'healthy',
    db: db === 'up' ? 'connected' : 'Not connected',
    cache: null,
    litellm_version: 'weir',
    snapshot_version: snap.version,
    // Without Redis the instance keeps serving on its leases, so this alone never makes it unready.
    ...(redis === 'none' ? {} : { redis: redis === 'up' ? 'connected' : 'Not connected' }),
  }));
}

/** POST /config/reload: the control thread reloads; only the master key or a proxy_admin key may ask. */
export function relayReload(core: GatewayCore, ex: Exchange, id: Identity): void {
  if (id.kind === 'key' && id.profile.userRole !== 'proxy_admin') {
    throw new GatewayError(401, 'Only the master key or a proxy_admin key may reload the config', 'auth_error');
  }
  core.deps.rpc('config.reload', null).then((r) => ex.respond(r.status, JSON_TYPE, JSON.stringify(r.body)), unreachable(core, ex));
}
