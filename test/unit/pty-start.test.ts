// The start gate of a cloud PTY (src/agents/sandbox/pty-start.ts): keystrokes wait until the
// machine's shell prints the mark (it runs Weir's line, the terminal back in its usual mode), what
// the shell printed before is not shown, the mark is found however the output is cut, and a shell
// that never prints it is passed through rather than left hanging. The real shells are driven in
// agents-cloud.test.ts ("a PTY's first keystrokes").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PTY_LINE } from '../../src/agents/sandbox/machine';
import { PtyStartGate } from '../../src/agents/sandbox/pty-start';

function gate() {
  const shown: string[] = [];
  const sent: string[] = [];
  const g = new PtyStartGate((c) => shown.push(c.toString('latin1')));
  return { g, shown: () => shown.join(''), sent, attach: () => g.attach((c) => sent.push(c.toString('latin1'))) };
}

describe('PtyStartGate', () => {
  it('holds keystrokes until the mark, then sends them first, in order; later ones go straight on', () => {
    const t = gate();
    t.attach();
    t.g.input(Buffer.from('a\r'));
    t.g.input(Buffer.from('b\r'));
    assert.deepEqual(t.sent, []);
    assert.equal(t.g.pendingBytes, 4);
    t.g.output(Buffer.from(`$ printf ... "$WEIR_PTY_MARK"\r\n\x1b]${t.g.mark}\x07agent up\r\n`));
    assert.deepEqual(t.sent, ['a\r', 'b\r']);
    assert.equal(t.g.pendingBytes, 0);
    assert.equal(t.shown(), 'agent up\r\n', "the shell's prompt and echo are not shown; the agent's output is");
    t.g.input(Buffer.from('c\r'));
    assert.deepEqual(t.sent, ['a\r', 'b\r', 'c\r']);
    t.g.output(Buffer.from('more'));
    assert.equal(t.shown(), 'agent up\r\nmore');
  });

  it('finds the mark however the output is cut into chunks', () => {
    const text = (mark: string) => Buffer.from(`login banner\r\n$ echo\r\n\x1b]${mark}\x07after the mark`);
    // Every single cut (the mark's end, its BEL alone, …), then any number of cuts.
    for (let cut = 0; cut <= text('').length + 24; cut++) {
      const t = gate();
      const all = text(t.g.mark);
      t.g.output(all.subarray(0, cut));
      t.g.output(all.subarray(cut));
      assert.equal(t.shown(), 'after the mark', `cut at ${cut}`);
    }
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 12 }), (cuts) => {
        const t = gate();
        const all = text(t.g.mark);
        t.g.input(Buffer.from('x'));
        let at = 0;
        for (const n of [...cuts, all.length]) {
          t.g.output(all.subarray(at, Math.min(all.length, at + n)));
          at = Math.min(all.length, at + n);
        }
        t.attach();
        assert.equal(t.shown(), 'after the mark');
        assert.deepEqual(t.sent, ['x'], 'held keystrokes go once the PTY is there');
      }),
    );
  });

  it('a shell that never prints the mark is passed through after 64 KB, keystrokes included', () => {
    const t = gate();
    t.attach();
    t.g.input(Buffer.from('k\r'));
    t.g.output(Buffer.alloc(40 * 1024, 'a'));
    assert.deepEqual(t.sent, []);
    t.g.output(Buffer.alloc(40 * 1024, 'b'));
    assert.deepEqual(t.sent, ['k\r']);
    assert.equal(t.shown().length, 80 * 1024, 'nothing it printed is lost');
  });

  it("PTY_LINE prints the mark from the environment, and the line's own echo does not hold it", () => {
    const mark = 'ab12cd34ef56ab12cd34ef56';
    const out = execFileSync('/bin/sh', { input: PTY_LINE, encoding: 'latin1', env: { PATH: process.env.PATH, WEIR_PTY_MARK: mark, WEIR_PTY_CMD: 'echo ran' } });
    assert.equal(out, `\x1b]${mark}\x07ran\n`);
    assert.ok(!PTY_LINE.includes(mark));
  });
});
