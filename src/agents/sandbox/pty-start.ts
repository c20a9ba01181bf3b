// The start of a cloud PTY. Both providers start the machine's interactive login shell, and Weir
// types into it the line that execs the agent (machine.ts PTY_LINE). While that shell's line editor
// holds the terminal, the terminal is in raw mode (no CR → NL); a keystroke that reaches the PTY
// then is read as the shell's, or is handed to the agent glued to its neighbours when the shell
// gives the terminal back (a viewer typing "a⏎b⏎" got one line "a\rb"). So the viewers' keystrokes
// wait here until the line runs: it prints a mark of its own (a random token, in an OSC sequence a
// terminal ignores) before it execs the agent, and by then the shell has given the terminal back
// in its usual mode. What the shell printed before the mark (its prompt, the line's echo) is not
// the agent's and is not shown. A shell that never prints the mark (PRE_MARK_MAX bytes without it)
// is passed through as it is, input included: the old behaviour, never a terminal that hangs.
import { randomBytes } from 'node:crypto';

/** Output before the mark that is held at most; past it, the gate opens. */
const PRE_MARK_MAX = 64 * 1024;

export class PtyStartGate {
  /** What the machine's PTY_LINE prints through `$WEIR_PTY_MARK` (hex: never in the line's echo). */
  readonly mark = randomBytes(12).toString('hex');
  private open = false;
  private belNext = false;
  private before: Buffer[] = [];
  private beforeBytes = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private write: ((c: Buffer) => void) | null = null;

  constructor(private readonly onData: (c: Buffer) => void) {}

  /** The PTY's output goes through here: dropped until the mark, passed on after it. */
  readonly output = (c: Buffer): void => {
    if (this.belNext) {
      // The mark ended its chunk: the BEL that closes its OSC starts this one.
      this.belNext = false;
      if (c[0] === 0x07) c = c.subarray(1);
    }
    if (this.open) return c.length ? this.onData(c) : undefined;
    this.before.push(c);
    this.beforeBytes += c.length;
    const seen = Buffer.concat(this.before);
    const at = seen.indexOf(this.mark);
    if (at >= 0) {
      this.before = [];
      // The mark's OSC ends with BEL right after it.
      let rest = seen.subarray(at + this.mark.length);
      if (rest.length === 0) this.belNext = true;
      else if (rest[0] === 0x07) rest = rest.subarray(1);
      this.release();
      if (rest.length) this.onData(rest);
    } else if (this.beforeBytes > PRE_MARK_MAX) {
      this.before = [];
      this.release();
      this.onData(seen);
    } else this.before = [seen];
  };

  /** The machine PTY's own write, once it exists: what was held goes first. */
  attach(write: (c: Buffer) => void): void {
    this.write = write;
    if (this.open) this.flush();
  }

  /** A viewer's keystrokes: held until the agent runs. */
  input(c: Buffer): void {
    if (this.open && this.write && !this.held.length) return this.write(c);
    this.held.push(c);
    this.heldBytes += c.length;
    if (this.open) this.flush();
  }

  /** Keystrokes held here (the caller bounds them with what the machine has not sent). */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  private release(): void {
    this.open = true;
    this.flush();
  }

  private flush(): void {
    if (!this.write) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const c of held) this.write(c);
  }
}
