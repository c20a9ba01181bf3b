// Keystrokes typed into a session's terminal before its PTY opens: the first viewer of a new
// terminal types while the sandbox and the agent start (the attach path keeps what comes before the
// viewer is attached: terminal-attach.ts; this is what comes after, until the PTY exists). Kept in
// order up to a bound, then typed, all at once, when the PTY opens.
export class EarlyInput {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(readonly max: number) {}

  /** Keeps the chunk, or false (and keeps nothing of it) when it would pass the bound. */
  keep(chunk: Buffer): boolean {
    if (this.bytes + chunk.length > this.max) return false;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    return true;
  }

  /** Everything kept, in the order it came; nothing is kept after. */
  take(): Buffer[] {
    const out = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return out;
  }
}
