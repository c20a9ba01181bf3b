// At most N holders at once; the rest wait their turn in order. Runs fanned out together go through
// their start (and their end) a few at a time: all at once, every run's next step waits behind
// every other run's, so each takes as long as the whole fan-out (processor sharing), and the
// control thread has dozens of callbacks ready in every turn of its loop while POSTs still arrive.
// Each step of a start is batched across the runs inside the gate (one key mint, one file-thread
// message, one UPDATE), so a gate's worth costs a few round trips.
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Resolves with the release once there is room; call the release exactly once. */
  async enter(): Promise<() => void> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The room passes straight to the next in line (active stays), or frees up.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}
