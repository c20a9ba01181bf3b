// Problems with single rows found by the table re-read (every 2 s): each is logged once, when it
// appears or changes, not on every pass, and forgotten once the row is fine or gone. What is
// remembered is bounded: past MAX_SUBJECTS rows in trouble, further ones are counted in one line.

const MAX_SUBJECTS = 10_000;

export class ProblemLog {
  /** subject → the detail last logged for it. */
  private readonly open = new Map<string, string>();
  private overflowLogged = false;

  constructor(private readonly write: (line: string) => void) {}

  /** `subject` names the row (never a key or a secret); `detail` says what is wrong with it. */
  report(subject: string, detail: string): void {
    if (this.open.get(subject) === detail) return;
    if (!this.open.has(subject) && this.open.size >= MAX_SUBJECTS) {
      if (!this.overflowLogged) this.write(`governance: more than ${MAX_SUBJECTS} rows have problems; further ones are not logged one by one`);
      this.overflowLogged = true;
      return;
    }
    this.open.set(subject, detail);
    this.write(`governance: ${subject} ${detail}`);
  }

  solved(subject: string): void {
    if (this.open.delete(subject) && this.open.size < MAX_SUBJECTS) this.overflowLogged = false;
  }

  get size(): number {
    return this.open.size;
  }
}
