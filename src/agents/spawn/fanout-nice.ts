// The agents' autogroup niceness as a fan-out grows (spawner-process.ts keeps one of these).
//
// The kernel weighs autogroups (sessions) against each other: Weir's whole session against each
// agent's. At the sandbox's niceness of 10 one agent weighs about a tenth of Weir, but 64 agents
// weigh six times as much as Weir together, and on a small machine the gateway then waits for a
// CPU: measured on 2 cores with 64 light agents, Weir's control thread waited in the run queue
// five times as long as it ran (25 % of the wall time), its event-loop lag p99 was 25–44 ms and an
// event reached its watcher 150–200 ms late at p99 after the starts. With the agents at 19: 12–14 ms
// and 14–33 ms.
//
// So the niceness rises with the number of agents running on the host, so that n agents together
// weigh about what one agent at the configured niceness weighs (a nice level is about 1.25× in the
// kernel's weights), until 19 caps it: from 7 agents on at 10. One agent runs at the configured
// niceness, as before; a sandbox of niceness 0 (Weir's equal) is not niced at all. A warm pool's
// launchers wait idle for their command and are not counted until it comes.

/** The kernel's weight ratio between two adjacent nice levels. */
const NICE_STEP = 1.25;
const MAX_NICE = 19;

/** The niceness of each of `running` agents whose sandbox asks for `base`. */
export function fanoutNice(base: number, running: number): number {
  if (running <= 1) return base;
  return Math.min(MAX_NICE, base + Math.round(Math.log(running) / Math.log(NICE_STEP)));
}

interface Agent {
  base: number;
  counted: boolean;
  /** The niceness last asked of the kernel. */
  nice: number;
}

export class FanoutNiceness {
  private readonly agents = new Map<number, Agent>();
  private running = 0;

  /** `set`: asks the kernel for a process's autogroup niceness (AutogroupQueue.set). */
  constructor(private readonly set: (pid: number, nice: number) => void) {}

  /** An agent started; `counted` false for a launcher that waits for its command. */
  add(pid: number, base: number, counted: boolean): void {
    if (counted) this.running++;
    const nice = counted ? fanoutNice(base, this.running) : base;
    this.agents.set(pid, { base, counted, nice });
    this.set(pid, nice);
    if (counted) this.rescale();
  }

  /** A waiting launcher got its command: it runs an agent from now on. */
  count(pid: number): void {
    const a = this.agents.get(pid);
    if (!a || a.counted) return;
    a.counted = true;
    this.running++;
    this.rescale();
  }

  /** The agent's process is gone. */
  remove(pid: number): void {
    const a = this.agents.get(pid);
    if (!a) return;
    this.agents.delete(pid);
    if (!a.counted) return;
    this.running--;
    this.rescale();
  }

  /** Asks again only where the scale moved: once past 19, more agents change nothing. */
  private rescale(): void {
    for (const [pid, a] of this.agents) {
      if (!a.counted) continue;
      const nice = fanoutNice(a.base, this.running);
      if (nice === a.nice) continue;
      a.nice = nice;
      this.set(pid, nice);
    }
  }
}
