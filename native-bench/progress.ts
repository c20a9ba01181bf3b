// The progress line on stderr: rewritten in place on a terminal, one line per phase otherwise
// (so logs of a CI run stay short).
import { performance } from 'node:perf_hooks';

export class Progress {
  private readonly tty: boolean;
  private phase = '';
  private shown = false;
  private readonly t0 = performance.now();

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY);
  }

  private stamp(): string {
    return `${((performance.now() - this.t0) / 1000).toFixed(0).padStart(4)}s`;
  }

  /** `phase` names the step (one log line per phase off a terminal); `detail` changes often. */
  set(phase: string, detail = ''): void {
    if (this.tty) {
      const cols = this.out.columns || 100;
      const line = `${this.stamp()} ${phase}${detail ? ` · ${detail}` : ''}`;
      this.out.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
      this.shown = true;
    } else if (phase !== this.phase) {
      this.out.write(`${this.stamp()} ${phase}\n`);
    }
    this.phase = phase;
  }

  /** A line that stays (a note, a warning), printed above the progress line. */
  note(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  clear(): void {
    if (this.tty && this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
