// The niceness of an agent's autogroup, set by the spawner process (spawner-process.ts).
//
// Each agent leads a session of its own, and Linux's default scheduler groups by session: an
// autogroup's share of the CPU is set by its own niceness, the process's `nice` is weighed only
// within its session. Without this, each agent weighs as much as all of Weir together.
//
// The kernel takes these changes at once from a process with CAP_SYS_ADMIN (Weir as root). Without
// it, one change per 100 ms on the whole machine (EAGAIN otherwise): a fan-out's changes wait in a
// queue, and every retry tries the whole queue in order until the kernel says "again". A process
// that is gone by its turn (a short agent) is dropped without using the kernel's one change, so it
// never holds up the ones behind it; earlier, each retry tried only the head of the queue, so each
// gone process cost a whole retry interval.
import { writeFileSync } from 'node:fs';

export type WriteResult = 'done' | 'again';

/** Writes the niceness; 'again' when the kernel wants it later (EAGAIN), 'done' otherwise (gone, no autogroups: nothing to do). */
export function writeAutogroupNice(pid: number, nice: number): WriteResult {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    return 'done';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? 'again' : 'done';
  }
}

/** Slightly over the kernel's 100 ms between two changes. */
export const AUTOGROUP_RETRY_MS = 110;

export class AutogroupQueue {
  private readonly waiting: { pid: number; nice: number }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (pid: number, nice: number) => WriteResult = writeAutogroupNice,
    private readonly retryMs = AUTOGROUP_RETRY_MS,
  ) {}

  /** How many changes wait for the kernel. */
  get pending(): number {
    return this.waiting.length;
  }

  set(pid: number, nice: number): void {
    this.waiting.push({ pid, nice });
    this.drain();
  }

  /** Tries the queue in order until the kernel says "again"; linear in what it takes off. */
  drain(): void {
    let done = 0;
    while (done < this.waiting.length) {
      const next = this.waiting[done]!;
      if (this.write(next.pid, next.nice) === 'again') break;
      done++;
    }
    if (done > 0) this.waiting.splice(0, done);
    if (this.waiting.length === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    } else {
      this.timer ??= setInterval(() => this.drain(), this.retryMs).unref();
    }
  }
}
