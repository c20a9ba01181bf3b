// Deployment health shared between instances: cooldowns, failures this minute, in-flight requests
// and requests this minute. Workers keep writing their own health into the shared table as before; the control
// thread reads each deployment's words on a 25 ms tick (a handful of Atomics loads per deployment)
// and publishes, in one message per tick on one Redis channel, only the deployments whose state
// moved since it last said. What the others publish it sums per deployment into the table's
// remote words, so a 429 elsewhere cools a deployment here, allowed_fails counts every instance's
// failures, and least-busy and usage-based routing see every instance's load — all without Redis on a request's
// path. Deployments are named by their id (model_info.id, else the hash of their params), the same
// on every instance that loads the same model_list. A cooldown deadline is only ever moved later.
//
// Bounds: an instance's in-flight count is re-sent every second while it is not zero, and one not
// heard again within 5 s is dropped (an instance that died stops weighing on the others then);
// failure and request counts lapse with their minute. At most 64 other instances are counted per deployment.
import type { SlotTable } from '../control/slots';
import type { DeploymentHealth } from '../state/deployment-health';
import type { RedisLink } from './link';
import { redisStats } from './stats';

const CHANNEL = 'weir:health';
const TICK_MS = 25;
const REFRESH_MS = 1000;
const PEER_TTL_MS = 5000;
const MAX_PEERS = 64;

/** What an instance (this one or another) last said about a deployment: a count of failures lapses with its minute. */
interface Said {
  fails: number;
  requests: number;
  minute: number;
  inflight: number;
  at: number;
}

/** One deployment in a message: id, cooldown deadline (0 = none new), failures this minute, in flight, requests this minute. */
type Entry = [string, number, number, number, number];

export class SharedHealth {
  /** slot → the deadline last published or received, so nothing is sent twice or echoed back. */
  private readonly known = new Map<number, number>();
  private readonly said = new Map<number, Said>();
  /** slot → instance → what it last said. */
  private readonly heard = new Map<number, Map<string, Said>>();
  private timer: NodeJS.Timeout | null = null;
  private lastSweep = 0;
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly health: DeploymentHealth,
    private readonly slots: SlotTable,
    private readonly instanceId: string,
    /** The clock (tests step it by hand, and call tick() themselves). */
    private readonly now: () => number = Date.now,
  ) {
    link.listen(CHANNEL, (m) => this.received(m));
    // Back after an outage: say everything once more (the others may have dropped our load, or
    // missed messages published while the channel was away).
    link.onUp(() => this.said.clear());
    // A freed slot goes to another deployment: what was said or heard about the old one goes with
    // it (else a sweep would write the old one's failures of this minute into the new one's words).
    this.unlisten = slots.onFreed((slot) => {
      this.known.delete(slot);
      this.said.delete(slot);
      this.heard.delete(slot);
    });
  }

  start(): void {
    for (const [, slot] of this.slots.entries()) this.known.set(slot, this.health.cooldownUntilMs(slot));

    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.unlisten?.();
    this.unlisten = null;
  }

  /** One round: drop quiet instances' load, then publish what moved. */
  tick(): void {
    const now = this.now();
    if (now - this.lastSweep >= REFRESH_MS) this.sweep(now);
    if (!this.link.up) return;
    const minute = Math.floor(now / 60_000);
    const d: Entry[] = [];
    for (const [id, slot] of this.slots.entries()) {
      let until = this.health.cooldownUntilMs(slot);
      if (until > (this.known.get(slot) ?? 0)) {
        this.known.set(slot, until);
        if (until <= now) until = 0;
      } else until = 0;
      const fails = this.health.localFailuresThisMinute(slot, now);
      const inflight = this.health.inflight(slot);
      const requests = this.health.localRequestsThisMinute(slot, now);
      const last = this.said.get(slot);
      const moved = last
        ? inflight !== last.inflight || (fails > 0 && (fails !== last.fails || minute !== last.minute)) || (requests > 0 && (requests !== last.requests || minute !== last.minute)) || (inflight > 0 && now - last.at >= REFRESH_MS)
        : fails > 0 || inflight > 0 || requests > 0;
      if (until === 0 && !moved) continue;
      this.said.set(slot, { fails, requests, minute, inflight, at: now });
      d.push([id, until, fails, inflight, requests]);
      if (until > 0) redisStats.cooldownsPublished++;
    }
    if (d.length === 0) return;
    redisStats.healthPublished++;
    this.link.cmd.publish(CHANNEL, JSON.stringify({ from: this.instanceId, minute, d })).catch(() => {});
  }

  private received(message: string): void {
    let m: { from?: unknown; minute?: unknown; d?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return;
    }
    const from = m.from;
    if (from === this.instanceId || typeof from !== 'string' || typeof m.minute !== 'number' || !Array.isArray(m.d)) return;
    const minute = m.minute;
    const now = this.now();
    redisStats.healthReceived++;
    for (const e of m.d as unknown[]) {
      if (!Array.isArray(e) || typeof e[0] !== 'string') continue;
      const slot = this.slots.known(e[0]);
      if (slot < 0) continue;
      const [, until, fails, inflight, requests] = e as unknown[];
      if (typeof until === 'number' && until > this.health.cooldownUntilMs(slot) && Number.isFinite(until)) {
        this.known.set(slot, until);
        this.health.coolDown(slot, until);
        redisStats.cooldownsReceived++;
      }
      if (!isCount(fails) || !isCount(inflight) || !isCount(requests)) continue;
      let peers = this.heard.get(slot);
      if (!peers) this.heard.set(slot, (peers = new Map()));
      if (!peers.has(from) && peers.size >= MAX_PEERS) continue;
      peers.set(from, { fails, requests, minute, inflight, at: now });
      this.sum(slot, peers, now);
    }
  }

  /** Drops what instances that went quiet said about their load, and writes the sums again. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [slot, peers] of this.heard) {
      let dropped = false;
      for (const [from, h] of peers) {
        if (now - h.at < PEER_TTL_MS) continue;
        // Quiet is normal for an idle instance: only a load it never took back is stale; its
        // counts of this minute stand until the minute ends.
        if (h.minute !== Math.floor(now / 60_000)) peers.delete(from);
        else if (h.inflight > 0) h.inflight = 0;
        else continue;
        dropped = true;
      }
      if (peers.size === 0) this.heard.delete(slot);
      if (dropped) this.sum(slot, peers, now);
    }
  }

  private sum(slot: number, peers: Map<string, Said>, now: number): void {
    const minute = Math.floor(now / 60_000);
    let fails = 0;
    let requests = 0;
    let inflight = 0;
    for (const h of peers.values()) {
      if (h.minute === minute) {
        fails += h.fails;
        requests += h.requests;
      }
      inflight += h.inflight;
    }
    this.health.setRemoteFailures(slot, minute, fails);
    this.health.setRemoteRequests(slot, minute, requests);
    this.health.setRemoteInflight(slot, inflight);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31;
