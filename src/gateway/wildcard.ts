// A model_name pattern with `*`s (`anthropic/*`, `fo::*:static::*`) matched against the model a
// client asks for. Each `*` stands for any text, possibly empty, and captures it for the
// deployment's template; everything else is literal, and the whole name must match.
//
// Not a regular expression: `^(.*)-(.*)-x$` tries every way of splitting a name that does not
// match, a time that grows with the name's length to the power of the number of `*`s, and the
// name is the client's, as long as its body allows. Here the literal parts between the `*`s are
// placed from the right, each at its last occurrence before the part placed after it: one
// backward search each, and no byte is searched twice. That gives the regular expression's
// captures too: each `*` takes the longest text that still lets the rest match, as a greedy
// `(.*)` does (test/unit/wildcard.test.ts checks both against RegExp).
import { scanSteps } from '../scan-steps';

export class Wildcard {
  /** The literal parts: before the first `*`, between each two, after the last. */
  private readonly parts: string[];

  constructor(readonly pattern: string) {
    this.parts = pattern.split('*');
  }

  /** The texts the `*`s stand for, in order, or null when the name does not match. */
  match(name: string): string[] | null {
    const parts = this.parts;
    const stars = parts.length - 1;
    const first = parts[0]!;
    const last = parts[stars]!;
    scanSteps.n += first.length + last.length;
    if (stars === 0) return name === first ? [] : null;
    if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return null;
    // starts[i]: where part i is placed; the middle parts lie between the first and the last.
    const starts: number[] = new Array<number>(stars + 1);
    starts[stars] = name.length - last.length;
    let limit = starts[stars]!;
    for (let i = stars - 1; i >= 1; i--) {
      const part = parts[i]!;
      const at = limit - part.length < first.length ? -1 : name.lastIndexOf(part, limit - part.length);
      scanSteps.n += limit - Math.max(at, 0);
      if (at < first.length) return null;
      starts[i] = limit = at;
    }
    const captures: string[] = [];
    let from = first.length;
    for (let i = 1; i <= stars; i++) {
      captures.push(name.slice(from, starts[i]));
      from = starts[i]! + parts[i]!.length;
    }
    scanSteps.n += name.length;
    return captures;
  }

  test(name: string): boolean {
    return this.match(name) !== null;
  }
}
