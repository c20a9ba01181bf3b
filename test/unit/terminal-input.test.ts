// What a session's terminal keeps of the keystrokes typed before its PTY opens
// (src/agents/terminal-input.ts): every chunk, in order, up to the bound; a chunk that would pass
// it is refused whole (the terminal then tells the viewer), and what is taken is no longer kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EarlyInput } from '../../src/agents/terminal-input';

describe('early terminal input', () => {
  it('keeps chunks in order up to the bound, refuses whole the one that would pass it, and takes what fits after', () => {
    const e = new EarlyInput(10);
    assert.equal(e.keep(Buffer.from('abcd')), true);
    assert.equal(e.keep(Buffer.from('efgh')), true);
    assert.equal(e.keep(Buffer.from('ijk')), false, '4 + 4 + 3 passes 10');
    assert.equal(e.keep(Buffer.from('ij')), true, 'exactly the bound fits');
    assert.equal(e.keep(Buffer.from('k')), false);
    assert.equal(Buffer.concat(e.take()).toString(), 'abcdefghij');
  });

  it('what is taken is kept no longer: the bound applies afresh', () => {
    const e = new EarlyInput(4);
    assert.equal(e.keep(Buffer.from('1234')), true);
    assert.equal(e.take().length, 1);
    assert.deepEqual(e.take(), []);
    assert.equal(e.keep(Buffer.from('5678')), true);
    assert.equal(Buffer.concat(e.take()).toString(), '5678');
  });
});
