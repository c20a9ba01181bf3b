// The worker's request entry: routes by path, authenticates, reads the body, and hands LLM calls
// to ProxyCall. Everything it needs is in the current snapshot and the shared health table.
import type { Exchange, HeaderList } from '../server/exchange';
import type { DeploymentHealth } from '../state/deployment-health';
import { authenticate } from './auth';
import { scanBody } from './body-scan';
import { errorBody, GatewayError, type Dialect } from './errors';
import { ProxyCall, type Endpoint } from './proxy-call';
import type { Snapshot } from './snapshot';

const JSON_TYPE: HeaderList = ['content-type', 'application/json'];

/** Control-thread operations a worker may ask for (admin routes); answered asynchronously. */
export type ControlRpc = (method: string, params: unknown) => Promise<{ status: number; body: unknown }>;

type Handler = (ex: Exchange, snap: Snapshot) => void;

interface Route {
  methods: string[];
  handler: Handler;
  /** Public routes need no key even when a master key is set. */
  public?: boolean;
}

export class Gateway {
  private readonly routes = new Map<string, Route>();

  constructor(
    private snapshot: Snapshot,
    private readonly health: DeploymentHealth,
    private readonly rpc: ControlRpc,
  ) {
    const chat: Route = { methods: ['POST'], handler: (ex, s) => this.llm(ex, s, 'chat') };
    this.routes.set('/v1/chat/completions', chat);
    this.routes.set('/chat/completions', chat);
    this.routes.set('/v1/messages', { methods: ['POST'], handler: (ex, s) => this.llm(ex, s, 'messages') });
    const models: Route = { methods: ['GET'], handler: (ex, s) => ex.respond(200, JSON_TYPE, s.modelsBody) };
    this.routes.set('/v1/models', models);
    this.routes.set('/models', models);
    const info: Route = { methods: ['GET'], handler: (ex, s) => ex.respond(200, JSON_TYPE, s.modelInfoBody) };
    this.routes.set('/model/info', info);
    this.routes.set('/v1/model/info', info);
    const alive: Route = { methods: ['GET'], public: true, handler: (ex) => ex.respond(200, JSON_TYPE, '"I\'m alive!"') };
    this.routes.set('/health/liveliness', alive);
    this.routes.set('/health/liveness', alive);
    this.routes.set('/health/readiness', { methods: ['GET'], public: true, handler: (ex) => this.readiness(ex) });
    this.routes.set('/', { methods: ['GET', 'HEAD'], public: true, handler: (ex) => ex.respond(200, ['content-type', 'text/plain'], 'Weir: RUNNING') });
    // Claude Code probes HEAD /api/hello before it starts and posts telemetry batches; LiteLLM answers both.
    this.routes.set('/api/hello', { methods: ['GET', 'HEAD'], public: true, handler: (ex) => ex.respond(200, JSON_TYPE, '{}') });
    this.routes.set('/api/event_logging/batch', { methods: ['POST'], public: true, handler: (ex) => ex.respond(200, JSON_TYPE, '{}') });
    this.routes.set('/config/reload', { methods: ['POST'], handler: (ex) => this.control(ex, 'config.reload') });
  }

  setSnapshot(s: Snapshot): void {
    this.snapshot = s;
  }

  handle(ex: Exchange): void {
    const snap = this.snapshot;
    const route = this.routes.get(ex.path);
    const dialect: Dialect = ex.path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    try {
      if (!route) throw new GatewayError(404, `Route not found: ${ex.method} ${ex.path}`, 'not_found_error');
      if (!route.methods.includes(ex.method)) {
        throw new GatewayError(405, `Method ${ex.method} not allowed on ${ex.path}; use ${route.methods.join(' or ')}`, 'method_not_allowed', null, ['allow', route.methods.join(', ')]);
      }
      if (!route.public) authenticate(ex.headers, snap.auth);
      route.handler(ex, snap);
    } catch (e) {
      sendError(ex, dialect, e);
    }
  }

  private llm(ex: Exchange, snap: Snapshot, endpoint: Endpoint): void {
    const dialect: Dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
    ex.readBody(snap.maxBodyBytes, (body, tooLarge) => {
      try {
        if (tooLarge || !body) {
          const mb = snap.maxBodyBytes / (1024 * 1024);
          throw new GatewayError(413, `Request body is larger than max_request_size_mb (${mb} MB)`, 'request_too_large');
        }
        const scan = scanBody(body);
        if (scan.error) throw new GatewayError(400, scan.error, 'bad_request_error');
        if (scan.modelNotString) throw new GatewayError(400, '"model" must be a string', 'bad_request_error', 'model');
        if (!scan.model) throw new GatewayError(400, 'Missing required parameter: "model"', 'bad_request_error', 'model');
        const group = snap.groups.get(scan.model);
        if (!group) throw new GatewayError(400, `Invalid model name passed in model=${scan.model}. Call \`/v1/models\` to view available models for your key.`, 'bad_request_error', 'model');
        const targets = endpoint === 'messages' ? group.messagesTargets : group.chatTargets;
        if (targets.length === 0) {
          const t = group.targets[0]!;
          const speaks = t.dialect === 'anthropic' ? 'the Anthropic Messages API (/v1/messages)' : 'the OpenAI chat API (/v1/chat/completions)';
          const asked = endpoint === 'messages' ? '/v1/messages' : '/v1/chat/completions';
          throw new GatewayError(400, `model=${scan.model} is served by ${t.provider}/${t.upstreamModel}, which speaks ${speaks}; translating ${asked} requests to it is not supported yet. Call it through its own endpoint.`, 'bad_request_error', 'model');
        }
        new ProxyCall(ex, snap, this.health, group, targets, body, scan, endpoint).start();
      } catch (e) {
        sendError(ex, dialect, e);
      }
    });
  }

  private readiness(ex: Exchange): void {
    ex.respond(200, JSON_TYPE, JSON.stringify({ status: 'healthy', db: 'Not connected', cache: null, litellm_version: 'weir', snapshot_version: this.snapshot.version }));
  }

  /** Admin operations run on the control thread; the worker only relays them. */
  private control(ex: Exchange, method: string): void {
    this.rpc(method, null).then(
      (r) => ex.respond(r.status, JSON_TYPE, JSON.stringify(r.body)),
      (e: unknown) => sendError(ex, 'openai', new GatewayError(500, `control thread: ${(e as Error).message}`)),
    );
  }
}

export function sendError(ex: Exchange, dialect: Dialect, e: unknown): void {
  const err = e instanceof GatewayError ? e : new GatewayError(500, `Internal error: ${(e as Error).message ?? String(e)}`, 'internal_server_error');
  ex.respond(err.status, JSON_TYPE.concat(err.headers), errorBody(dialect, err));
}
