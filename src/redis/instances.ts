// How many Weir instances share the Redis: each says it is alive every HEARTBEAT_MS (a pipeline of
// three commands on a sorted set) and counts as gone after INSTANCE_TTL_MS. Lease sizes and the
// share each instance admits alone while Redis is down divide by this count.
import type { RedisLink } from './link';

const HEARTBEAT_MS = 10_000;
const INSTANCE_TTL_MS = 30_000;

export class Instances {
  private n = 1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
  ) {
    link.onUp(() => void this.heartbeat());
  }

  /** Instances seen in the last INSTANCE_TTL_MS (1 until Redis answered). */
  get count(): number {
    return this.n;
  }

  start(): void {
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
    void this.heartbeat();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async heartbeat(): Promise<void> {
    if (!this.link.up) return;
    const nowMs = Date.now();
    try {
      const r = await this.link.cmd.pipeline().zadd('weir:instances', nowMs, this.instanceId).zremrangebyscore('weir:instances', 0, nowMs - INSTANCE_TTL_MS).zcard('weir:instances').exec();
      const n = Number(r?.[2]?.[1] ?? 1);
      if (n > 0) this.n = n;
    } catch {
      // the link reports the outage
    }
  }
}
