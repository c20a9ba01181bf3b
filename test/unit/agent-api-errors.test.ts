// The agent API's answers to what goes wrong inside it (src/agents/api.ts): a fault of Weir's own
// (a query that fails, a bug) is a 500 in the OpenAI error shape AND a log line with its stack for
// the operator; the caller's own mistakes (4xx) are answered without a log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handleAgentCall, type ApiServices } from '../../src/agents/api';
import type { AgentCall } from '../../src/gateway/agent-relay';

const call = (path: string): AgentCall => ({
  method: 'GET',
  path,
  query: '',
  headers: {},
  body: null,
  caller: { isMasterKey: true, keyHash: null, userRole: null, open: false },
});

/** Services whose session listing fails as a dropped database connection would. */
const failing = {
  sessions: async () => {
    throw new Error('Connection terminated unexpectedly');
  },
} as unknown as ApiServices;

async function logged<T>(f: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    return { value: await f(), lines };
  } finally {
    process.stdout.write = write;
  }
}

test("a fault inside the agent API is a 500 with its message, and one error line with the stack", async () => {
  const { value, lines } = await logged(() => handleAgentCall(failing, call('/v1/agent/sessions')));
  assert.equal(value.status, 500);
  assert.match(JSON.stringify(value.body), /agent API: Connection terminated unexpectedly/);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, / weir error agents: GET \/v1\/agent\/sessions: Error: Connection terminated unexpectedly\n {4}at /);
});

test("a caller's mistake is answered and not logged", async () => {
  const { value, lines } = await logged(() => handleAgentCall(failing, call('/v1/agent/nothing-here')));
  assert.equal(value.status, 404);
  assert.deepEqual(lines, []);
});
