// A test double of Weir's own agent-run API (the contract `weir run` is a client of): POST
// /v1/agent/runs, GET /v1/agent/runs/{id}, and GET …/events as server-sent events honouring
// Last-Event-ID. Each run plays a script given by the test: its events, its end, and connections
// to cut after a number of events (to make the client resume). Every request is recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedEvent {
  type: string;
  payload: unknown;
}

export interface RunScript {
  events: ScriptedEvent[];
  /** The run as GET /v1/agent/runs/{id} shows it once over (status, error, result, cost …). */
  final: Record<string, unknown>;
  /** The n-th events connection (0-based) is cut after this many events (by seq count over the whole run). */
  cutAfter?: number[];
  /** Events connections answered 503 before one is served. */
  failFirst?: number;
  /** The stream ends without the final status event (a finished run whose event is gone). */
  noFinalEvent?: boolean;
  /** GETs of the run that still show it running after its final event (Weir writes the event before the row). */
  rowLagReads?: number;
}

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface LiveRun {
  id: string;
  body: Record<string, unknown>;
  script: RunScript;
  connections: number;
  reads: number;
}

export interface FakeAgentApi {
  url: string;
  requests: Recorded[];
  /** The script of the next run POSTed (runs take them in order). */
  nextRun(s: RunScript): void;
  close(): Promise<void>;
}

const ts = (seq: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();

export async function startFakeAgentApi(o: { key: string; profiles?: string[]; jobs?: string[] }): Promise<FakeAgentApi> {
  const scripts: RunScript[] = [];
  const runs = new Map<string, LiveRun>();
  const requests: Recorded[] = [];
  const profiles = new Set(o.profiles ?? ['claude']);
  const jobs = new Set(o.jobs ?? ['triage']);

  const json = (res: http.ServerResponse, status: number, v: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(v));
  };
  const openaiError = (res: http.ServerResponse, status: number, message: string, type = 'invalid_request_error') =>
    json(res, status, { error: { message, type, param: null, code: String(status) } });

  const eventsOf = (r: LiveRun) => [
    { seq: 1, ts: ts(1), type: 'status', payload: { status: 'running' } },
    ...r.script.events.map((e, i) => ({ seq: i + 2, ts: ts(i + 2), type: e.type, payload: e.payload })),
    {
      seq: r.script.events.length + 2,
      ts: ts(r.script.events.length + 2),
      type: 'status',
      // As Weir's: the final status event carries the run's cost.
      payload: { status: r.script.final.status, ...(r.script.final.error ? { error: r.script.final.error } : {}), ...(r.script.final.cost !== undefined ? { cost: r.script.final.cost } : {}) },
    },
  ];

  const runView = (r: LiveRun, over: boolean) => ({
    id: r.id,
    job: r.body.job ?? null,
    profile: r.body.profile ?? 'claude',
    status: 'queued',
    error: null,
    cost: 0,
    max_budget: r.body.max_budget ?? null,
    result: null,
    num_turns: null,
    queued_at: ts(0),
    started_at: null,
    finished_at: null,
    trigger: 'api',
    attempt: 1,
    key_alias: `agent-run-${r.id}`,
    ...(over ? r.script.final : {}),
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      if (req.headers.authorization !== `Bearer ${o.key}`) return openaiError(res, 401, 'Authentication Error, invalid key', 'auth_error');
      if (req.method === 'POST' && path === '/v1/agent/runs') {
        let b: Record<string, unknown>;
        try {
          b = JSON.parse(body) as Record<string, unknown>;
        } catch {
          return openaiError(res, 400, 'the body is not JSON');
        }
        if (typeof b.profile === 'string' && !profiles.has(b.profile)) return openaiError(res, 404, `unknown profile "${b.profile}"`);
        if (typeof b.job === 'string' && !jobs.has(b.job)) return openaiError(res, 404, `unknown job "${b.job}"`);
        const script = scripts.shift();
        if (!script) return openaiError(res, 500, 'the test gave no script for this run', 'internal_error');
        const r: LiveRun = { id: `run_${runs.size + 1}`, body: b, script, connections: 0, reads: 0 };
        runs.set(r.id, r);
        return json(res, 202, runView(r, false));
      }
      const m = /^\/v1\/agent\/runs\/([^/]+)(\/events)?$/.exec(path);
      const r = m ? runs.get(decodeURIComponent(m[1]!)) : undefined;
      if (req.method !== 'GET' || !m) return openaiError(res, 404, `no route ${req.method} ${path}`);
      if (!r) return openaiError(res, 404, `no run ${m[1]}`);
      if (!m[2]) return json(res, 200, r.reads++ < (r.script.rowLagReads ?? 0) ? { ...runView(r, false), status: 'running' } : runView(r, true));
      const n = r.connections++;
      if (n < (r.script.failFirst ?? 0)) return openaiError(res, 503, 'the control thread is busy', 'internal_error');
      const after = Number(req.headers['last-event-id'] ?? 0);
      const cut = r.script.cutAfter?.[n - (r.script.failFirst ?? 0)];
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      const all = eventsOf(r);
      for (const e of r.script.noFinalEvent ? all.slice(0, -1) : all) {
        if (e.seq <= after) continue;
        res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        if (cut !== undefined && e.seq >= cut) {
          // Cut mid-stream: the client must resume from what it saw.
          res.socket?.end();
          return;
        }
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    nextRun: (s) => scripts.push(s),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
