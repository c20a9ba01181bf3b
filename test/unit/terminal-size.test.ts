// A live terminal's size from its viewers (src/agents/terminal-size.ts): which text frames are
// control messages and which are keystrokes (clients from before resize typed in text frames), the
// bounds on cols and rows, and the attach query; each wrong one names its parameter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerminalSizeError, controlOf, sizeFromQuery } from '../../src/agents/terminal-size';

const frame = (s: string) => Buffer.from(s);

function refused(f: () => unknown, param: string, message: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof TerminalSizeError && e.param === param && message.test(e.message));
}

describe('terminal size: control messages', () => {
  it('a resize, whitespace before it allowed', () => {
    assert.deepEqual(controlOf(frame('{"type":"resize","cols":132,"rows":50}')), { type: 'resize', cols: 132, rows: 50 });
    assert.deepEqual(controlOf(frame(' \n{"type":"resize","cols":1,"rows":1000}')), { type: 'resize', cols: 1, rows: 1000 });
  });

  it('anything that is not a JSON object with a "type" is keystrokes', () => {
    for (const s of ['', 'ls -la\r', '{', '{"type":"resize",', '["resize",80,24]', '{"cols":80,"rows":24}', '{"type":7}', '"resize"', 'null']) {
      assert.equal(controlOf(frame(s)), null, JSON.stringify(s));
    }
  });

  it('a resize out of bounds, not an integer or missing a side, and an unknown type: refused, naming what', () => {
    refused(() => controlOf(frame('{"type":"resize","cols":0,"rows":24}')), 'cols', /"cols" must be an integer from 1 to 1000 \(got 0\)/);
    refused(() => controlOf(frame('{"type":"resize","cols":80,"rows":1001}')), 'rows', /"rows" must be an integer from 1 to 1000/);
    refused(() => controlOf(frame('{"type":"resize","cols":80.5,"rows":24}')), 'cols', /integer/);
    refused(() => controlOf(frame('{"type":"resize","cols":"80","rows":24}')), 'cols', /got "80"/);
    refused(() => controlOf(frame('{"type":"resize","cols":80}')), 'rows', /missing; cols and rows go together/);
    refused(() => controlOf(frame('{"type":"paste","text":"x"}')), 'type', /unknown control message type "paste"/);
  });
});

describe('terminal size: the attach query', () => {
  it('none, or both sides in bounds', () => {
    assert.equal(sizeFromQuery(new URLSearchParams('')), null);
    assert.equal(sizeFromQuery(new URLSearchParams('other=1')), null);
    assert.deepEqual(sizeFromQuery(new URLSearchParams('cols=100&rows=30')), { cols: 100, rows: 30 });
  });

  it('one side alone, out of bounds or not a number: refused, naming which', () => {
    refused(() => sizeFromQuery(new URLSearchParams('cols=100')), 'rows', /go together/);
    refused(() => sizeFromQuery(new URLSearchParams('rows=30')), 'cols', /go together/);
    refused(() => sizeFromQuery(new URLSearchParams('cols=0&rows=30')), 'cols', /from 1 to 1000/);
    refused(() => sizeFromQuery(new URLSearchParams('cols=80&rows=99999')), 'rows', /from 1 to 1000/);
    refused(() => sizeFromQuery(new URLSearchParams('cols=-5&rows=30')), 'cols', /got "-5"/);
    refused(() => sizeFromQuery(new URLSearchParams('cols=&rows=30')), 'cols', /got ""/);
  });
});
