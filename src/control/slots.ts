// Deployment id → slot in the shared health table. A deployment keeps its slot (and its counters)
// while it is in the model list, and when it leaves and comes back before its slot was freed.
//
// A slot of a deployment that left is freed only once nothing can still refer to it: every worker
// thread acknowledged a snapshot version at or past the first one published without it (so no new
// request picks it), and no attempt is open at it (a request in flight on an older snapshot holds
// it: its in-flight count in the health table is above zero). A freed slot is handed to the next
// new deployment with its health words cleared, so a deployment never inherits another's cooldown,
// failures or latency. Without the hooks (unit tests that only build snapshots) nothing is freed.

export interface SlotHooks {
  /** The lowest snapshot version every live worker has adopted (0: none known). */
  applied(): number;
  /** Whether a request still has an attempt open at the slot. */
  held(slot: number): boolean;
  /** Clears the slot's health before it is handed to another deployment. */
  reset(slot: number): void;
}

const NO_HOOKS: SlotHooks = { applied: () => 0, held: () => true, reset: () => {} };

export class SlotTable {
  private readonly byId = new Map<string, number>();
  /** Deployments that left the model list: id → the first published version without them. */
  private readonly departed = new Map<string, number>();
  /** Freed slots, handed out before slots never used. */
  private readonly spare: number[] = [];
  /** Slots never handed out start here. */
  private fresh = 0;
  private readonly freedListeners = new Set<(slot: number) => void>();

  constructor(
    private readonly capacity: number,
    private readonly hooks: SlotHooks = NO_HOOKS,
  ) {}

  slotFor(id: string): number {
    const slot = this.byId.get(id);
    if (slot !== undefined) return slot;
    if (this.spare.length === 0 && this.fresh >= this.capacity) this.collect();
    let next = this.spare.pop();
    if (next !== undefined) this.hooks.reset(next);
    else if (this.fresh < this.capacity) next = this.fresh++;
    else throw new Error(`more than ${this.capacity} deployments at once (counting those that left while requests still use them); remove some, or wait for those requests to end`);
    this.byId.set(id, next);
    return next;
  }

  /**
   * A snapshot holding deployments `ids` is about to be posted to the workers as `version`: the
   * deployments with a slot that it does not hold have left (as of this version), and those that
   * left and are back keep their slot.
   */
  published(version: number, ids: ReadonlySet<string>): void {
    for (const id of this.byId.keys()) {
      if (ids.has(id)) this.departed.delete(id);
      else if (!this.departed.has(id)) this.departed.set(id, version);
    }
  }

  /** Frees the slots of deployments that left and that nothing refers to any more; returns how many. */
  collect(): number {
    if (this.departed.size === 0) return 0;
    const applied = this.hooks.applied();
    let n = 0;
    for (const [id, since] of this.departed) {
      if (since > applied) continue;
      const slot = this.byId.get(id)!;
      if (this.hooks.held(slot)) continue;
      this.departed.delete(id);
      this.byId.delete(id);
      this.spare.push(slot);
      for (const f of this.freedListeners) f(slot);
      n++;
    }
    return n;
  }

  /** Tells `f` of every slot freed from now on (what is kept per slot elsewhere goes with it); returns what stops it. */
  onFreed(f: (slot: number) => void): () => void {
    this.freedListeners.add(f);
    return () => this.freedListeners.delete(f);
  }

  /** How many new deployment ids this process can take now (slots that can be freed included). */
  free(): number {
    this.collect();
    return this.capacity - this.byId.size;
  }

  /** The slot of a deployment this instance has, or -1 (a deployment id from elsewhere gets none). */
  known(id: string): number {
    return this.byId.get(id) ?? -1;
  }

  entries(): IterableIterator<[string, number]> {
    return this.byId.entries();
  }
}
