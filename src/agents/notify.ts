// A job's `notify.url`: when a run ends, its summary is POSTed there as JSON, signed the Standard
// Webhooks way (webhook-id, webhook-timestamp, webhook-signature) when the job has a secret, so the
// receiver can check it with any Standard Webhooks library — or with our own verifyWebhook.
//
// Fire and forget for the caller: send() never throws and never waits. Network errors, 408, 429 and
// 5xx are retried with exponential backoff (the same webhook-id each time, so the receiver can
// drop duplicates; a fresh timestamp and signature per attempt); other answers are final. At most
// maxPending deliveries are in flight or waiting at once, so an unreachable receiver cannot grow
// memory without bound. Logs name the receiver's origin only: a notify URL's path often is a secret
// (Slack, Discord, Teams webhooks).
import { randomUUID } from 'node:crypto';
import { signStandard } from './standard-webhooks';

export { signStandard } from './standard-webhooks';

export interface NotifierOptions {
  /** Attempts per delivery, the first included (default 5). */
  maxAttempts?: number;
  /** Milliseconds to wait after the `attempt`-th failed attempt (1-based); default 2^(attempt-1) s, at most 5 min. */
  delayMs?: (attempt: number) => number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Deliveries in flight or waiting for a retry, at most (default 1000); more are dropped and logged. */
  maxPending?: number;
  log?: (line: string) => void;
  /** Called once per send() with how it ended. */
  onDone?: (outcome: NotifyOutcome) => void;
  now?: () => Date;
}

export interface NotifyOutcome {
  /** The receiver's origin (scheme, host, port). */
  origin: string;
  ok: boolean;
  attempts: number;
  /** The last HTTP status, null when there was none (network error, dropped). */
  status: number | null;
}

interface Delivery {
  url: string;
  origin: string;
  secret: string | undefined;
  id: string;
  body: string;
  attempts: number;
  timer: NodeJS.Timeout | null;
  controller: AbortController | null;
}

const RETRY_STATUS = (s: number): boolean => s === 408 || s === 429 || s >= 500;
/** The default wait after the `attempt`-th failure: 1 s, 2 s, 4 s … at most 5 minutes. */
export const backoffMs = (attempt: number): number => Math.min(300_000, 1000 * 2 ** (attempt - 1));

export class Notifier {
  private readonly maxAttempts: number;
  private readonly delayMs: (attempt: number) => number;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly log: (line: string) => void;
  private readonly onDone: (o: NotifyOutcome) => void;
  private readonly now: () => Date;
  private readonly pending = new Set<Delivery>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(opts: NotifierOptions = {}) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
    this.delayMs = opts.delayMs ?? backoffMs;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxPending = opts.maxPending ?? 1000;
    this.log = opts.log ?? (() => {});
    this.onDone = opts.onDone ?? (() => {});
    this.now = opts.now ?? (() => new Date());
  }

  /** POSTs `payload` as JSON to `url`, signed with `secret` when there is one. Never throws. */
  send(url: string, secret: string | undefined, payload: object): void {
    let origin = '(bad URL)';
    try {
      const u = new URL(url);
      origin = u.origin;
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      if (this.stopped) return this.done(origin, false, 0, null, 'the notifier is stopped');
      if (this.pending.size >= this.maxPending) return this.done(origin, false, 0, null, `${this.maxPending} notifications are already pending; this one is dropped`);
      const d: Delivery = { url, origin, secret, id: `msg_${randomUUID().replace(/-/g, '')}`, body: JSON.stringify(payload), attempts: 0, timer: null, controller: null };
      this.pending.add(d);
      this.run(d);
    } catch (e) {
      this.done(origin, false, 0, null, `not sent: ${(e as Error).message}`);
    }
  }

  /** Resolves when nothing is in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels every pending retry and request; later send() calls are dropped. */
  stop(): void {
    this.stopped = true;
    for (const d of [...this.pending]) {
      if (d.timer) clearTimeout(d.timer);
      d.controller?.abort();
      this.finish(d, false, null, 'canceled: the notifier stopped');
    }
  }

  /** One attempt, whatever goes wrong in it (an injected delay function that throws included). */
  private run(d: Delivery): void {
    this.attempt(d).catch((e: Error) => this.finish(d, false, null, `failed: ${e.message}`));
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    const ts = Math.floor(this.now().getTime() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'weir-agent-notify',
      'webhook-id': d.id,
      'webhook-timestamp': String(ts),
    };
    if (d.secret) headers['webhook-signature'] = signStandard(d.secret, d.id, ts, d.body);
    const controller = new AbortController();
    d.controller = controller;
    let status: number | null = null;
    let problem: string;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers,
        body: d.body,
        // A POST redirected becomes a GET under fetch's rules: a redirect is an answer, not followed.
        redirect: 'manual',
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      status = res.status;
      await res.body?.cancel().catch(() => {});
      problem = `answered ${status}`;
    } catch (e) {
      problem = `failed: ${(e as Error).message}${(e as { cause?: Error }).cause?.message ? ` (${(e as { cause: Error }).cause.message})` : ''}`;
    }
    d.controller = null;
    if (!this.pending.has(d)) return; // stopped meanwhile
    if (status !== null && status >= 200 && status < 300) return this.finish(d, true, status, null);
    const retry = status === null || RETRY_STATUS(status);
    if (!retry || d.attempts >= this.maxAttempts || this.stopped) {
      return this.finish(d, false, status, `${problem}; gave up after ${d.attempts} attempt${d.attempts > 1 ? 's' : ''}`);
    }
    d.timer = setTimeout(() => {
      d.timer = null;
      this.run(d);
    }, Math.max(0, this.delayMs(d.attempts)));
    d.timer.unref();
  }

  private finish(d: Delivery, ok: boolean, status: number | null, problem: string | null): void {
    if (!this.pending.delete(d)) return;
    this.done(d.origin, ok, d.attempts, status, problem);
    if (this.pending.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private done(origin: string, ok: boolean, attempts: number, status: number | null, problem: string | null): void {
    if (problem) this.log(`agents: notification to ${origin} ${problem}`);
    try {
      this.onDone({ origin, ok, attempts, status });
    } catch {
      // An observer's bug is not the sender's.
    }
  }
}
