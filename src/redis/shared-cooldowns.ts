// Deployment cooldowns shared between instances: a 429 (or too many failures) that cools a
// deployment down on one instance cools it down on all. Workers keep writing cooldowns into the
// shared health table as before; the control thread watches the cooldown words of the
// deployments it has (a 25 ms tick, a handful of Atomics loads per deployment), publishes each
// new deadline on a Redis channel, and writes the deadlines others publish into its own table.
// Deployments are named by their id (model_info.id, else the hash of their params), the same on
// every instance that loads the same model_list. A deadline is only ever moved later.
import type { SlotTable } from '../control/slots';
import type { DeploymentHealth } from '../state/deployment-health';
import type { RedisLink } from './link';
import { redisStats } from './stats';

const CHANNEL = 'weir:cooldown';
const TICK_MS = 25;

export class SharedCooldowns {
  /** slot → the deadline last published or received, so nothing is sent twice or echoed back. */
  private readonly known = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly health: DeploymentHealth,
    private readonly slots: SlotTable,
    private readonly instanceId: string,
  ) {
    link.listen(CHANNEL, (m) => this.received(m));
  }

  start(): void {
    for (const [, slot] of this.slots.entries()) this.known.set(slot, this.health.cooldownUntilMs(slot));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private tick(): void {
    if (!this.link.up) return;
    const now = Date.now();
    for (const [id, slot] of this.slots.entries()) {
      const until = this.health.cooldownUntilMs(slot);
      if (until <= (this.known.get(slot) ?? 0)) continue;
      this.known.set(slot, until);
      if (until <= now) continue;
      redisStats.cooldownsPublished++;
      this.link.cmd.publish(CHANNEL, JSON.stringify({ from: this.instanceId, id, until })).catch(() => {});
    }
  }

  private received(message: string): void {
    let m: { from?: unknown; id?: unknown; until?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return;
    }
    if (m.from === this.instanceId || typeof m.id !== 'string' || typeof m.until !== 'number' || !Number.isFinite(m.until)) return;
    const slot = this.slots.known(m.id);
    if (slot < 0 || m.until <= this.health.cooldownUntilMs(slot)) return;
    this.known.set(slot, m.until);
    this.health.coolDown(slot, m.until);
    redisStats.cooldownsReceived++;
  }
}
