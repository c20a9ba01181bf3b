// `weir run`: starts an agent run through Weir's HTTP API (POST /v1/agent/runs) and follows it to
// its end: its events as readable lines (or raw with --json), a live status line on a terminal,
// then the result, the cost and an exit code that says how it ended (see RUN_USAGE).
// It is a client of the API only: it never loads the gateway, so it starts in a blink.
import { randomUUID } from 'node:crypto';
import { FINAL_STATUSES, type RunStatus } from './agents/types';
import { parseRunArgs, RUN_USAGE, RunUsageError, type RunArgs } from './cli-run-args';
import { eventLines, exitCodeOf, liveStatus, summaryLines, type ShownEvent } from './cli-run-format';
import { errorMessage, followEvents, HttpStatusError } from './cli-run-sse';

interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

type Run = Record<string, unknown> & { id: string; status?: string };

/** POST attempts on a network error or a 5xx (the Idempotency-Key makes a repeat start nothing new). */
const POST_ATTEMPTS = 3;
/** How often a terminal's status line asks for the run's cost. */
const COST_POLL_MS = 2000;

/** Writes the event lines, keeping a terminal's status line below them. */
class Screen {
  private live = '';
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  line(text: string): void {
    if (this.tty && this.live) this.out.write(`\r\x1b[2K${text}\n${this.live}`);
    else this.out.write(`${text}\n`);
  }

  status(text: string): void {
    if (!this.tty) return;
    this.live = text;
    this.out.write(`\r\x1b[2K${text}`);
  }

  clearStatus(): void {
    if (this.tty && this.live) this.out.write('\r\x1b[2K');
    this.live = '';
  }
}

async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function startRun(a: RunArgs, prompt: string | null): Promise<Run> {
  const body: Record<string, unknown> = a.profile !== null ? { profile: a.profile, prompt } : { job: a.job, input: a.input ?? {} };
  if (a.maxBudget !== null) body.max_budget = a.maxBudget;
  const headers = { authorization: `Bearer ${a.key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() };
  let last = '';
  for (let attempt = 1; attempt <= POST_ATTEMPTS; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${a.url}/v1/agent/runs`, { method: 'POST', headers, body: JSON.stringify(body) });
    } catch (e) {
      last = `cannot reach ${a.url}: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}`;
      await sleep(250 * attempt);
      continue;
    }
    const text = await res.text();
    if (res.status >= 400 && res.status < 500) throw new HttpStatusError(res.status, errorMessage(res.status, text));
    if (!res.ok) {
      last = errorMessage(res.status, text);
      await sleep(250 * attempt);
      continue;
    }
    let run: unknown;
    try {
      run = JSON.parse(text);
    } catch {
      throw new Error(`POST /v1/agent/runs answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!run || typeof (run as Run).id !== 'string') throw new Error(`POST /v1/agent/runs answered ${res.status} without a run id: ${text.slice(0, 200)}`);
    return run as Run;
  }
  throw new Error(last);
}

/**
 * The run once its row says it is over: Weir writes the final event before the row (result, cost),
 * so right after that event the row may still say running for a moment. Null when it cannot be
 * read in a few seconds (the summary then says less, never fails).
 */
async function getFinalRun(a: RunArgs, id: string): Promise<Run | null> {
  let last: Run | null = null;
  for (let attempt = 1; attempt <= 20; attempt++) {
    last = (await getRun(a, id)) ?? last;
    if (last && FINAL_STATUSES.has(last.status as RunStatus)) return last;
    await sleep(Math.min(500, 50 * attempt));
  }
  return null;
}

/** The run as it stands; null when it cannot be read (the summary then says less, never fails). */
async function getRun(a: RunArgs, id: string): Promise<Run | null> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(`${a.url}/v1/agent/runs/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${a.key}` } });
      if (res.ok) return (await res.json()) as Run;
      await res.body?.cancel();
      if (res.status < 500) return null;
    } catch {
      /* retried */
    }
    await sleep(250 * attempt);
  }
  return null;
}

export async function runCommand(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let a: RunArgs;
  try {
    a = parseRunArgs(argv, env);
  } catch (e) {
    if (!(e instanceof RunUsageError)) throw e;
    io.stderr.write(`weir run: ${e.message}\n${RUN_USAGE}\n`);
    return 2;
  }
  if (a.help) {
    io.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  const prompt = a.prompt === '-' ? await readStdin(io.stdin) : a.prompt;
  if (prompt !== null && !prompt.trim()) {
    io.stderr.write('weir run: the prompt is empty\n');
    return 2;
  }
  const t0 = Date.now();
  let run: Run;
  try {
    run = await startRun(a, prompt);
  } catch (e) {
    io.stderr.write(`weir run: could not start the run: ${(e as Error).message}\n`);
    return e instanceof HttpStatusError ? 2 : 1;
  }

  const tty = !a.json && io.stdout.isTTY === true;
  const screen = new Screen(io.stdout, tty);
  const state = { status: run.status ?? 'queued', cost: run.cost as unknown };
  const what = a.profile !== null ? `profile ${a.profile}` : `job ${a.job}`;
  if (a.json) io.stderr.write(`run ${run.id} (${what})\n`);
  else screen.line(`▶ run ${run.id} (${what}) ${state.status}`);

  const redraw = () => screen.status(liveStatus({ id: run.id, status: state.status, elapsedMs: Date.now() - t0, cost: state.cost }));
  let ticker: NodeJS.Timeout | null = null;
  let poller: NodeJS.Timeout | null = null;
  if (tty) {
    redraw();
    ticker = setInterval(redraw, 1000);
    let polling = false;
    poller = setInterval(() => {
      if (polling) return;
      polling = true;
      void getRun(a, run.id).then((r) => {
        polling = false;
        if (r && r.cost !== undefined) state.cost = r.cost;
      });
    }, COST_POLL_MS);
  }
  const stopTimers = () => {
    if (ticker) clearInterval(ticker);
    if (poller) clearInterval(poller);
    screen.clearStatus();
  };
  const onSigint = () => {
    stopTimers();
    io.stderr.write(`\nweir run: stopped following run ${run.id}; it goes on (cancel it with POST /v1/agent/runs/${run.id}/cancel)\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);

  let final: ShownEvent;
  try {
    final = await followEvents({
      baseUrl: a.url,
      runId: run.id,
      key: a.key!,
      onEvent(e) {
        if (a.json) {
          io.stdout.write(`${JSON.stringify(e)}\n`);
          return;
        }
        if (e.type === 'status') state.status = String((e.payload as { status?: unknown } | null)?.status ?? state.status);
        for (const l of eventLines(e)) screen.line(l);
        if (tty) redraw();
      },
      async finalStatus() {
        const r = await getRun(a, run.id);
        return r && typeof r.status === 'string' && FINAL_STATUSES.has(r.status as RunStatus) ? { status: r.status, error: r.error ?? undefined } : null;
      },
      onReconnect(attempt, why) {
        if (!a.json) screen.line(`… event stream dropped (${why}); reconnecting (${attempt})`);
      },
    });
  } catch (e) {
    stopTimers();
    process.removeListener('SIGINT', onSigint);
    io.stderr.write(`weir run: could not follow run ${run.id}: ${(e as Error).message}\n`);
    return e instanceof HttpStatusError ? 2 : 1;
  }
  stopTimers();
  process.removeListener('SIGINT', onSigint);

  const payload = final.payload as { status: unknown; error?: unknown; cost?: unknown };
  const finalStatus = String(payload.status);
  const done = (await getFinalRun(a, run.id)) ?? { id: run.id, status: finalStatus, error: payload.error ?? null, cost: payload.cost };
  // The final event carries the cost too: it stands in when the row has none.
  const summary = summaryLines({ ...done, status: finalStatus, cost: done.cost ?? payload.cost });
  (a.json ? io.stderr : io.stdout).write(`${summary.join('\n')}\n`);
  return exitCodeOf(finalStatus);
}
