// The cloud providers for real, when their keys are set: E2B_API_KEY (and E2B_TEMPLATE, default
// `weir-agents`, see templates/e2b.ts) and DAYTONA_API_KEY (DAYTONA_SNAPSHOT, DAYTONA_API_URL).
// A sandbox is made, runs a command with streamed output, writes and reads a file, is listed by
// its labels, and is destroyed; nothing of it is left. Without a key the test says it is skipped and why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudSandboxProvider, type CloudKind } from '../../src/agents/sandbox/cloud-provider';
import type { SandboxDef } from '../../src/agents/types';

const live: Array<{ kind: CloudKind; key: string | undefined; options: Record<string, unknown> }> = [
  { kind: 'e2b', key: process.env.E2B_API_KEY, options: { template: process.env.E2B_TEMPLATE || 'weir-agents' } },
  { kind: 'daytona', key: process.env.DAYTONA_API_KEY, options: { snapshot: process.env.DAYTONA_SNAPSHOT || 'weir-agents', ...(process.env.DAYTONA_API_URL ? { api_url: process.env.DAYTONA_API_URL } : {}) } },
];

for (const { kind, key, options } of live) {
  const skip = key ? false : `${kind === 'e2b' ? 'E2B_API_KEY' : 'DAYTONA_API_KEY'} is not set: the live ${kind} test needs a real account`;
  if (skip) process.stdout.write(`# skipped: ${skip}\n`);
  describe(`live ${kind}`, { skip }, () => {
    it('makes a sandbox, runs a command, moves a file, finds it by label, destroys it', async () => {
      const provider = new CloudSandboxProvider({ kind, installation: `weir-live-test` });
      const def: SandboxDef = { id: 'live', name: 'live', provider: kind, options: { ...options, api_key: key }, source: 'config' };
      const runId = `live-${Date.now().toString(36)}`;
      const sb = await provider.create(def, runId, { weir_run_id: runId }, { timeoutMs: 120_000 });
      try {
        let out = '';
        const code = await sb.exec({ argv: ['sh', '-c', 'echo ok; claude --version || true'], env: {}, onStdout: (c) => (out += c), onStderr: (c) => (out += c) }).done;
        assert.equal(code, 0, out);
        assert.match(out, /^ok$/m);
        await sb.writeFile('note.txt', 'hello');
        assert.equal(String(await sb.readFile('note.txt', 100)), 'hello');
        const listed = await provider.clientOf(def).cloud.list({ weir_run_id: runId });
        assert.deepEqual(listed.map((m) => m.id), [sb.id]);
      } finally {
        await sb.destroy();
      }
      const after = await provider.clientOf(def).cloud.list({ weir_run_id: runId });
      assert.equal(after.length, 0, 'destroyed');
    });
  });
}
