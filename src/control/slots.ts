// Deployment id → slot in the shared health table. Slots are never reused: a deployment that
// leaves the config and comes back keeps its slot (and its counters), and a slot still referenced
// by a request in flight on an old snapshot is never handed to another deployment.
export class SlotTable {
  private readonly byId = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  slotFor(id: string): number {
    let slot = this.byId.get(id);
    if (slot === undefined) {
      slot = this.byId.size;
      if (slot >= this.capacity) throw new Error(`more than ${this.capacity} distinct deployments since start; restart to compact`);
      this.byId.set(id, slot);
    }
    return slot;
  }

  /** Slots never handed out yet: how many new deployment ids this process can still take. */
  free(): number {
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
