// The worker's request entry: routes by path, identifies the caller, reads the body, applies the
// governance checks and hands LLM calls to ProxyCall. Everything it decides from is in memory: the
// current snapshot, the shared tables and the governance view. The admin page's routes are in
// ui-route-table.ts, the provider routes (/anthropic/*, /vertex_ai/*…) in provider-routes.ts, the
// relays to the control thread in control-relays.ts; the admission through a continuation and the
// lease wait in lease-wait.ts.
import { performance } from 'node:perf_hooks';
import { log } from '../log';
import type { CallTrace } from '../metrics/recorder';
import { warmWires } from '../providers/wire';
import { type Exchange, JSON_TYPE } from '../server/exchange';
import { cookieValue, SECURITY_HEADERS, SESSION_COOKIE } from '../ui/http-headers';
import { sessionIdentity } from '../ui/session-caller';
import { UiRoutes } from '../ui/ui-routes';
import { isAdminPath } from './admin-relay';
import { HOOK_PREFIX, isAgentPath } from './agent-relay';
import { extractKey } from './auth';
import { scanBody, type BodyScan } from './body-scan';
import { takeRoutingParams } from './client-fallbacks';
import { readiness, relayAdmin, relayAgent, relayReload, relayScrape } from './control-relays';
import { countTokens } from './count-tokens';
import { errorBody, GatewayError, type Dialect } from './errors';
import { ADMIN_MAX_BODY_BYTES, endUserOf, type AccessCheck, type GatewayCore, type GatewayDeps } from './gateway-core';
import { Identifier, OPEN, type Identity } from './identity';
import { LeaseSpent } from './lease-spent';
import { giveBack, LeaseWait } from './lease-wait';
import { messagesTranslated, resolveGroup } from './model-groups';
import { modelInfoBody, modelsBody } from './model-list';
import { PASS_THROUGH_PREFIXES, passThroughDialect } from './pass-through-route';
import { Charge, chargedEntities, checkKey, checkKeyModel, checkTeamModel, modelAllowedForKey } from './policy';
import { providerRoute } from './provider-routes';
import { nativeTargets, ProxyCall, type CallContext, type Endpoint } from './proxy-call';
import { completionsAsked, estimateReservation, reachablePrices, type Reservation } from './reservation';
import { allowRoute } from './route-access';
import type { ModelGroup, Snapshot, Target } from './snapshot';
import { addUiRoutes, NO_PAGE } from './ui-route-table';

/** What a refused call had said about itself by the time it was refused. */
interface Asked {
  model: string;
  endUser: string | null;
}

/** The LLM routes whose refusals are counted in the request metrics. */
const LLM_PATHS = new Set(['/v1/chat/completions', '/chat/completions', '/v1/messages', '/v1/responses', '/responses', '/v1/embeddings', '/embeddings']);

export type Handler = (ex: Exchange, snap: Snapshot, id: Identity | Promise<Identity>) => void;

export interface Route {
  methods: string[];
  handler: Handler;
  /** Public routes need no key even when a master key is set. */
  public?: boolean;
}

export class Gateway implements GatewayCore {
  private readonly routes = new Map<string, Route>();
  private readonly identifier: Identifier;
  private readonly ui: UiRoutes;
  readonly leases: LeaseWait;

  constructor(
    private snapshot: Snapshot,
    readonly deps: GatewayDeps,
  ) {
    warmSnapshotWires(snapshot);
    this.leases = new LeaseWait(deps.rpc, (ex, dialect, e) => this.fail(ex, dialect, e));
    this.identifier = new Identifier(deps.keyIndex, deps.view, async (hash) => {
      const r = await deps.rpc('key.lookup', { hash });
      return r.status === 200 && (r.body as { found?: boolean }).found === true;
    });
    const chat: Route = { methods: ['POST'], handler: (ex, s, id) => this.llm(ex, s, 'chat', id) };
    this.routes.set('/v1/chat/completions', chat);
    this.routes.set('/chat/completions', chat);
    this.routes.set('/v1/messages', { methods: ['POST'], handler: (ex, s, id) => this.llm(ex, s, 'messages', id) });
    const responses: Route = { methods: ['POST'], handler: (ex, s, id) => this.llm(ex, s, 'responses', id) };
    this.routes.set('/v1/responses', responses);
    this.routes.set('/responses', responses);
    const embeddings: Route = { methods: ['POST'], handler: (ex, s, id) => this.llm(ex, s, 'embeddings', id) };
    this.routes.set('/v1/embeddings', embeddings);
    this.routes.set('/embeddings', embeddings);
    this.routes.set('/v1/messages/count_tokens', { methods: ['POST'], handler: (ex, s, id) => this.countTokens(ex, s, id) });
    const models: Route = { methods: ['GET'], handler: (ex, s, id) => this.afterIdentity(ex, 'openai', id, (who) => ex.respond(200, JSON_TYPE, modelsBody(s, who))) };
    this.routes.set('/v1/models', models);
    this.routes.set('/models', models);
    const info: Route = { methods: ['GET'], handler: (ex, s, id) => this.afterIdentity(ex, 'openai', id, (who) => ex.respond(200, JSON_TYPE, modelInfoBody(s, who))) };
    this.routes.set('/model/info', info);
    this.routes.set('/v1/model/info', info);
    const alive: Route = { methods: ['GET'], public: true, handler: (ex) => ex.respond(200, JSON_TYPE, '"I\'m alive!"') };
    this.routes.set('/health/liveliness', alive);
    this.routes.set('/health/liveness', alive);
    this.routes.set('/health/readiness', { methods: ['GET'], public: true, handler: (ex, s) => readiness(this, ex, s) });
    this.routes.set('/', { methods: ['GET', 'HEAD'], public: true, handler: (ex) => ex.respond(200, ['content-type', 'text/plain'], 'Weir: RUNNING') });
    // Claude Code probes HEAD /api/hello before it starts and posts telemetry batches; LiteLLM answers both.
    this.routes.set('/api/hello', { methods: ['GET', 'HEAD'], public: true, handler: (ex) => ex.respond(200, JSON_TYPE, '{}') });
    this.routes.set('/api/event_logging/batch', { methods: ['POST'], public: true, handler: (ex) => ex.respond(200, JSON_TYPE, '{}') });
    // Public unless general_settings.require_auth_for_metrics_endpoint (read per scrape: reloads apply).
    const metrics: Route = { methods: ['GET'], public: true, handler: (ex, s) => (s.metrics.requireAuth ? this.afterIdentity(ex, 'openai', this.caller(ex, s), () => relayScrape(this, ex)) : relayScrape(this, ex)) };
    this.routes.set('/metrics', metrics);
    this.routes.set('/metrics/', metrics);
    // The admin page (src/ui/): its files, its login, its live stream (ui-route-table.ts).
    this.ui = new UiRoutes(deps.ui ?? NO_PAGE, deps.rpc, deps.openStream);
    addUiRoutes(this.routes, this.ui, (ex, dialect, id, then) => this.afterIdentity(ex, dialect, id, then));
    this.routes.set('/config/reload', { methods: ['POST'], handler: (ex, _s, id) => this.afterIdentity(ex, 'openai', id, (who) => relayReload(this, ex, who)) });
  }

  /**
   * Answers an error; with --detailed_debug, one log line for it too. A refused LLM call is counted
   * (under its caller and model when they were known by then) before the answer goes out: a client
   * that has its answer and scrapes /metrics at once finds it counted.
   */
  fail(ex: Exchange, dialect: Dialect, e: unknown, who?: Identity, asked?: Asked): void {
    const m = this.deps.metrics;
    if (m && LLM_PATHS.has(ex.path)) m.calls.refused(m.calls.rowFor(who ?? OPEN, asked?.endUser ?? null, asked?.model ?? '', '', undefined), e instanceof GatewayError ? e.status : 500);
    sendError(ex, dialect, e);
    if (this.snapshot.detailedDebug) {
      const status = e instanceof GatewayError ? e.status : 500;
      const text = (e instanceof GatewayError ? e.logText : undefined) ?? (e as Error).message ?? '';
      log.debug(`${ex.method} ${ex.path} status=${status} ${(performance.now() - ex.startedAt).toFixed(2)}ms ${text.slice(0, 200)}`);
    }
  }

  setSnapshot(s: Snapshot): void {
    this.snapshot = s;
    warmSnapshotWires(s);
  }

  handle(ex: Exchange): void {
    const snap = this.snapshot;
    const route = this.routes.get(ex.path);
    try {
      if (!route) {
        if (isAdminPath(ex.path)) return relayAdmin(this, ex, this.caller(ex, snap));
        if (isAgentPath(ex.path)) return relayAgent(this, ex, ex.path.startsWith(HOOK_PREFIX) ? null : this.caller(ex, snap));
        if (PASS_THROUGH_PREFIXES.some((p) => ex.path.startsWith(p))) return providerRoute(this, ex, snap, this.caller(ex, snap));
        if (ex.path.startsWith('/ui/')) return this.ui.page(ex);
        throw new GatewayError(404, `Route not found: ${ex.method} ${ex.path}`, 'not_found_error');
      }
      if (!route.methods.includes(ex.method)) {
        throw new GatewayError(405, `Method ${ex.method} not allowed on ${ex.path}; use ${route.methods.join(' or ')}`, 'method_not_allowed', null, ['allow', route.methods.join(', ')]);
      }
      route.handler(ex, snap, route.public ? OPEN : this.caller(ex, snap));
    } catch (e) {
      this.fail(ex, ex.path.startsWith('/v1/messages') ? 'anthropic' : passThroughDialect(ex.path), e);
    }
  }

  /**
   * Who calls, once the key's route restrictions (allowed_routes) let it call this path: decided
   * here, before any handler reads the body. A caller still being looked up is checked when known.
   */
  private caller(ex: Exchange, snap: Snapshot): Identity | Promise<Identity> {
    const h = ex.headers;
    // The page's session cookie authenticates a request that has no key of its own. A request
    // without cookies (every API client) pays one property read for this.
    if (h.cookie !== undefined && snap.auth.masterKeyHash) {
      const token = cookieValue(h.cookie, SESSION_COOKIE);
      if (token && extractKey(h, snap.auth.customKeyHeader) === '') {
        const checked = sessionIdentity(token, ex.method, h['x-csrf-token'] ?? null, this.deps.rpc, this.identifier).then((who) => allowRoute(who, ex.path));
        checked.catch(() => {});
        return checked;
      }
    }
    const id = this.identifier.identify(h, snap.auth);
    if (!(id instanceof Promise)) return allowRoute(id, ex.path);
    const checked = id.then((who) => allowRoute(who, ex.path));
    // Every handler awaits it at once (afterIdentity); this covers one that throws before it does
    // (a refused pass-through path): an unhandled rejection would retire the worker.
    checked.catch(() => {});
    return checked;
  }

  /**
   * Runs `then` once the caller is known (at once for keys in memory; after a lookup otherwise).
   * A caller known at once makes no closure here: this runs on every request.
   */
  afterIdentity(ex: Exchange, dialect: Dialect, id: Identity | Promise<Identity>, then: (id: Identity) => void): void {
    if (id instanceof Promise) id.then((who) => this.runAs(ex, dialect, who, then), (e: unknown) => this.fail(ex, dialect, e));
    else this.runAs(ex, dialect, id, then);
  }

  private runAs(ex: Exchange, dialect: Dialect, who: Identity, then: (id: Identity) => void): void {
    if (ex.aborted) return;
    try {
      then(who);
    } catch (e) {
      this.fail(ex, dialect, e);
    }
  }

  /**
   * Runs `then` with the caller and the whole body. The body is read only once the caller is
   * known: for a key still being looked up, reading waits (holdBody), so a request with a made-up
   * key never buffers more than what came with its headers, and is refused without reading more.
   */
  withBody(ex: Exchange, limit: number, dialect: Dialect, id: Identity | Promise<Identity>, then: (who: Identity, body: Buffer) => void, trace?: CallTrace | null): void {
    const read = (who: Identity) => {
      if (trace) trace.auth = performance.now();
      ex.readBody(limit, (body, tooLarge) => {
        if (tooLarge || !body) {
          const what = limit === ADMIN_MAX_BODY_BYTES ? '1 MB' : `max_request_size_mb (${limit / (1024 * 1024)} MB)`;
          return this.fail(ex, dialect, new GatewayError(413, `Request body is larger than ${what}`, 'request_too_large'));
        }
        try {
          then(who, body);
        } catch (e) {
          this.fail(ex, dialect, e, who);
        }
      });
    };
    if (id instanceof Promise) ex.holdBody();
    this.afterIdentity(ex, dialect, id, read);
  }

  private llm(ex: Exchange, snap: Snapshot, endpoint: Endpoint, id: Identity | Promise<Identity>): void {
    const dialect: Dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
    const trace: CallTrace | null = snap.metrics.tracing && this.deps.metrics ? { auth: 0, route: 0, firstByte: 0 } : null;
    this.withBody(ex, snap.maxBodyBytes, dialect, id, (who, body) => {
      const asked: Asked = { model: '', endUser: null };
      try {
        this.proxy(ex, snap, endpoint, who, body, asked, trace);
      } catch (e) {
        this.fail(ex, dialect, e, who, asked);
      }
    }, trace);
  }

  /** `asked` learns the model and end user as soon as they are read (a refusal is counted under them). */
  private proxy(ex: Exchange, snap: Snapshot, endpoint: Endpoint, id: Identity, received: Buffer, asked: Asked, trace: CallTrace | null): void {
    let body = received;
    // The scan records an Anthropic-dialect body's messages for the translation cache when its
    // model's calls are translated (body-scan.ts): those of a model served natively need no record.
    const aliases = id.kind === 'key' ? id.profile.aliases : undefined;
    const messages = endpoint === 'messages' ? (model: string | undefined) => model !== undefined && messagesTranslated(snap, aliases?.[model] ?? model) : false;
    // Values this key sent before (Claude Code's tools, system and history) are compared, not walked again.
    let scan = scanBody(body, messages, id.kind === 'key' ? id.profile.tokenHash : id.kind);
    if (scan.error) throw new GatewayError(400, scan.error, 'bad_request_error');
    if (scan.modelNotString) throw new GatewayError(400, '"model" must be a string', 'bad_request_error', 'model');
    if (!scan.model) throw new GatewayError(400, 'Missing required parameter: "model"', 'bad_request_error', 'model');
    let fallbacks: string[] | null = null;
    if (scan.routingParams) {
      const rp = takeRoutingParams(body, messages);
      body = rp.body;
      scan = rp.scan;
      fallbacks = rp.disableFallbacks ? [] : rp.fallbacks;
    }
    const requested = scan.model!;
    asked.model = requested;
    const profile = id.kind === 'key' ? id.profile : null;
    const name = profile?.aliases[requested] ?? requested;
    const group = resolveGroup(snap, name);
    if (!group) throw new GatewayError(400, `Invalid model name passed in model=${requested}. Call \`/v1/models\` to view available models for your key.`, 'bad_request_error', 'model');
    // Deployments that speak the client's dialect are preferred (byte pass-through); a group
    // that has none is served through translation.
    const native = nativeTargets(group, endpoint);
    if (endpoint === 'embeddings' && native.length === 0) {
      throw new GatewayError(400, `model=${requested} has no deployment that serves embeddings (OpenAI-compatible deployments do)`, 'bad_request_error', 'model');
    }
    const targets = native.length ? native : group.targets;
    const endUser = endUserOf(ex.headers, scan.user);
    asked.endUser = endUser;
    if (fallbacks) {
      for (const m of fallbacks) if (!resolveGroup(snap, m)) throw new GatewayError(400, `Invalid model name passed in fallbacks: ${m}`, 'bad_request_error', 'fallbacks');
    }
    const estimate = () => estimateReservation(reachablePrices(snap, group, fallbacks), body.length, scan.maxTokens, completionsAsked(scan));
    const access = Gateway.routedAccess(snap, requested, group.name, fallbacks);
    let charge: Charge | null;
    try {
      charge = this.admit(id, requested, endUser, estimate, access);
    } catch (e) {
      if (!(e instanceof LeaseSpent)) throw e;
      const admit = () => this.admit(id, requested, endUser, estimate, access);
      const start = (c: Charge | null) => this.startCall(ex, snap, group, targets, body, scan, endpoint, { identity: id, charge: c, endUser, journal: this.deps.journal, entities: this.deps.entities, fallbacks, metrics: this.deps.metrics ?? null, trace });
      return this.leases.afterLease(ex, endpoint === 'messages' ? 'anthropic' : 'openai', e, admit, start);
    }
    try {
      this.startCall(ex, snap, group, targets, body, scan, endpoint, { identity: id, charge, endUser, journal: this.deps.journal, entities: this.deps.entities, fallbacks, metrics: this.deps.metrics ?? null, trace });
    } catch (e) {
      // Thrown before the call owned its charge (the call catches what happens once it started).
      giveBack(charge);
      throw e;
    }
  }

  private startCall(ex: Exchange, snap: Snapshot, group: ModelGroup, targets: Target[], body: Buffer, scan: BodyScan, endpoint: Endpoint, ctx: CallContext): void {
    new ProxyCall(ex, snap, this.deps.health, group, targets, body, scan, endpoint, ctx).start();
  }

  /**
   * Governance for a virtual key: the checks, then rate-limit slots and a reservation of the call's
   * worst-case cost on every budget it is charged to. The master key answers only to the global
   * proxy budget. `checkAccess` makes the key's model-access checks (LiteLLM's order); `model`
   * is the name asked for, which the key's per-model limits are matched on.
   */
  admit(id: Identity, model: string, endUser: string | null, estimate: () => Reservation, checkAccess: AccessCheck): Charge | null {
    const entities = this.deps.entities;
    if (!entities) return null;
    const view = this.deps.view;
    const now = Date.now();
    const endRec = endUser ? view.endUsers.get(endUser) : undefined;
    const endEntity = endRec === undefined ? null : { id: endUser!, rec: endRec };
    if (id.kind !== 'key') {
      if (view.globalRecord < 0 && !endEntity) return null;
      const charge = new Charge(entities);
      charge.acquire(chargedEntities(null, endEntity, view.globalRecord), estimate(), now);
      return charge;
    }
    checkAccess(id.profile, entities, now);
    const charge = new Charge(entities);
    charge.acquire(chargedEntities(id.profile, endEntity, view.globalRecord, model), estimate(), now);
    return charge;
  }

  /** A routed call's access: the name asked for (or the group an alias resolved it to), and the client's fallbacks. */
  private static routedAccess(snap: Snapshot, requested: string, groupName: string, fallbacks: string[] | null): AccessCheck {
    return (p, entities, now) => {
      if (requested !== groupName && modelAllowedForKey(p, requested, snap.accessGroups)) checkKey(entities, p, requested, snap.accessGroups, now);
      else checkKey(entities, p, groupName, snap.accessGroups, now);
      // Client fallbacks are models the key must be allowed to call too (LiteLLM's check 2).
      for (const m of fallbacks ?? []) {
        checkKeyModel(p, m, snap.accessGroups);
        checkTeamModel(p, m, snap.accessGroups);
      }
    };
  }

  private countTokens(ex: Exchange, snap: Snapshot, id: Identity | Promise<Identity>): void {
    this.withBody(ex, snap.maxBodyBytes, 'anthropic', id, (who, body) => {
      const scan = scanBody(body);
      if (scan.error) throw new GatewayError(400, scan.error, 'bad_request_error');
      if (!scan.model) throw new GatewayError(400, 'Missing required parameter: "model"', 'bad_request_error', 'model');
      const name = (who.kind === 'key' ? who.profile.aliases[scan.model] : undefined) ?? scan.model;
      const group = resolveGroup(snap, name);
      if (!group) throw new GatewayError(400, `Invalid model name passed in model=${scan.model}`, 'bad_request_error', 'model');
      if (who.kind === 'key' && this.deps.entities) checkKey(this.deps.entities, who.profile, group.name, snap.accessGroups, Date.now());
      countTokens(ex, group, body, scan).then(
        (r) => ex.respond(r.status, r.headers, r.body),
        (e: unknown) => this.fail(ex, 'anthropic', e),
      );
    });
  }
}

export function sendError(ex: Exchange, dialect: Dialect, e: unknown): void {
  const err = e instanceof GatewayError ? e : new GatewayError(500, `Internal error: ${(e as Error).message ?? String(e)}`, 'internal_server_error');
  const headers = JSON_TYPE.concat(err.headers);
  // The admin page's routes carry its security headers on every answer, errors too.
  ex.respond(err.status, ex.path.startsWith('/ui') ? headers.concat(SECURITY_HEADERS) : headers, errorBody(dialect, err));
}

/** The wires of a snapshot's configured deployments, made (and their credentials fetched) at once. */
function warmSnapshotWires(s: Snapshot): void {
  for (const g of s.groups.values()) warmWires(g.targets);
}
