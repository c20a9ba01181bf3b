// The control thread's connections to the shared Redis: one for commands, one for pub/sub (a
// subscribed connection takes no other commands). Workers never touch Redis. While Redis is down
// commands fail at once (no offline queue): callers fall back to what this instance holds, and
// the link reconnects in the background, telling its listeners when it is back.
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { log } from '../log';
import type { ControlStatus } from '../state/control-status';
import type { RedisSettings } from './settings';
import { redisStats } from './stats';

/** Reconnection back-off: 50 ms growing to 1 s, never giving up. */
const retry = (times: number): number => Math.min(50 * times, 1_000);

type Client = Redis | Cluster;

const COMMAND_TIMEOUT_MS = 2_000;

// ioredis (and its dependencies, a few MB of heap) loads only for an installation that names a
// Redis: most never do.
const ioredis = (): typeof import('ioredis') => require('ioredis') as typeof import('ioredis');

function connect(s: RedisSettings, name: string): Client {
  const { Cluster, Redis } = ioredis();
  const common: RedisOptions = {
    username: s.username ?? undefined,
    password: s.password ?? undefined,
    tls: s.tls ? {} : undefined,
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A Redis that accepts connections but does not answer must not hold an admin answer or a
    // waiting request: the caller falls back as if Redis were down.
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: retry,
    lazyConnect: true,
  };
  const t = s.target;
  if (t.mode === 'cluster') return new Cluster(t.nodes, { redisOptions: common, enableOfflineQueue: false, clusterRetryStrategy: retry, lazyConnect: true });
  if (t.mode === 'sentinel') return new Redis({ ...common, sentinels: t.sentinels, name: t.name, sentinelPassword: t.sentinelPassword ?? undefined, db: t.db, sentinelRetryStrategy: retry });
  return new Redis({ ...common, host: t.host, port: t.port, db: t.db });
}

export class RedisLink {
  readonly cmd: Client;
  readonly sub: Client;
  private readonly upListeners: ((afterOutage: boolean) => void)[] = [];
  private readonly messageListeners = new Map<string, (message: string) => void>();
  private closed = false;
  /** This link's state (redisStats.state reports the process's link, for /health and /metrics). */
  private state: typeof redisStats.state = 'connecting';

  constructor(
    readonly settings: RedisSettings,
    private readonly status: ControlStatus,
  ) {
    this.cmd = connect(settings, 'weir');
    this.sub = connect(settings, 'weir-sub');
    redisStats.state = 'connecting';
    status.setRedis('down');
    this.cmd.on('ready', () => this.moved(true));
    this.cmd.on('close', () => this.moved(false));
    // ioredis reports every failed attempt as an error event; the up/down lines say what matters.
    this.cmd.on('error', () => {});
    this.sub.on('error', () => {});
    this.sub.on('message', (channel: string, message: string) => this.messageListeners.get(channel)?.(message));
    this.sub.on('ready', () => {
      const channels = [...this.messageListeners.keys()];
      if (channels.length) this.sub.subscribe(...channels).catch(() => {});
    });
  }

  /** Starts connecting; resolves once connected or once the first attempt failed (serving never waits on Redis). */
  async start(): Promise<void> {
    await Promise.all([this.cmd.connect().catch(() => {}), this.sub.connect().catch(() => {})]);
    if (this.state !== 'up') this.moved(false);
  }

  get up(): boolean {
    return this.state === 'up';
  }

  /** Called each time the command connection is (again) ready; `afterOutage`: it had been lost (or the first attempt failed). */
  onUp(fn: (afterOutage: boolean) => void): void {
    this.upListeners.push(fn);
  }

  /** Listens to a channel (subscribed again after every reconnection). */
  listen(channel: string, fn: (message: string) => void): void {
    this.messageListeners.set(channel, fn);
    if (this.sub.status === 'ready') this.sub.subscribe(channel).catch(() => {});
  }

  private moved(up: boolean): void {
    if (this.closed) return;
    const was = this.state;
    const now: typeof was = up ? 'up' : 'down';
    if (was === now) return;
    this.state = now;
    redisStats.state = now;
    redisStats.since = Date.now();
    this.status.setRedis(now);
    if (up) {
      log.info(`redis: connected to ${this.settings.shown}${was === 'down' ? '; reconciling what was counted while it was away' : ''}`);
      for (const fn of this.upListeners) fn(was === 'down');
    } else {
      log.warn(`redis: ${this.settings.shown} unreachable: serving on this instance's leases and local state until it is back`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}
