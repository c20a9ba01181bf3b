// At most N holders at once; the rest wait their turn in order. Runs ending together go through
// their end a few at a time: all at once, every run's next step waits behind every other run's, so
// each end takes as long as the whole fan-out (processor sharing) and the control thread has dozens
// of callbacks ready in every turn of its loop. (Starts went through one too, until each of their
// steps was batched across the runs starting together: then a gate only split one batch's round
// trips into many, eight runs each, and a 64-run fan-out's median start waited for four rounds.)
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
