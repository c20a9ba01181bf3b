// Scenario 2's session (native-bench/bodies.ts claudeCodeSession, load.ts closedLoop): the calls
// are what Claude Code sends, each the one before plus a turn, the cache breakpoint on the last
// message only, the last holding the body's whole history; a closed loop sends them in turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';
import { claudeCodeBody, claudeCodeSession } from '../../native-bench/bodies';
import { closedLoop } from '../../native-bench/load';

type Obj = Record<string, unknown>;

test("a session's calls: a turn more each, the breakpoint on the last message only, the last the whole history", () => {
  const body = claudeCodeBody() as Obj & { messages: Obj[] };
  const calls = claudeCodeSession(body, 10).map((b) => JSON.parse(b.toString()) as Obj & { messages: Obj[] });
  assert.equal(calls.length, 10);
  assert.equal(calls[9]!.messages.length, body.messages.length - 1, 'every turn, without the closing request');
  for (let k = 0; k < calls.length; k++) {
    const m = calls[k]!.messages;
    if (k > 0) assert.equal(m.length, calls[k - 1]!.messages.length + 2, `call ${k}: an assistant turn and its tool result more`);
    const marked = m.map((x, n) => (JSON.stringify(x).includes('cache_control') ? n : -1)).filter((n) => n >= 0);
    assert.deepEqual(marked, [m.length - 1], `call ${k}: the breakpoint on the last message only`);
    assert.equal(m[m.length - 1]!.role, 'user');
    if (k > 0) assert.deepEqual(m.slice(0, -3), calls[k - 1]!.messages.slice(0, -1), `call ${k}: the history before it unchanged`);
  }
});

test('a closed loop sends the bodies in turn', async () => {
  const got: string[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      got.push(Buffer.concat(parts).toString());
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const s = await closedLoop(client, { path: '/', method: 'POST', headers: [], body: Buffer.from('x'), bodies: ['a', 'b', 'c'].map((x) => Buffer.from(x)) }, 5);
    assert.equal(s.errors, 0);
    assert.deepEqual(got, ['a', 'b', 'c', 'a', 'b']);
  } finally {
    await client.close();
    server.close();
  }
});
