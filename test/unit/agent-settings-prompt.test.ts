// A job's prompt template is checked with the rest of agent_settings: a syntax error refuses the
// config (naming the job's prompt), before any run renders it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentSettingsSchema } from '../../src/config/agent-settings';

const settings = (prompt: string) => ({
  sandboxes: [{ name: 'local', provider: 'local' }],
  profiles: [{ name: 'p', agent: 'claude-code', sandbox: 'local' }],
  jobs: [{ name: 'triage', profile: 'p', prompt }],
});

test('agent_settings: a job prompt with an unclosed "{{" or a placeholder that is not a path is refused', () => {
  assert.equal(agentSettingsSchema.safeParse(settings('Triage issue #{{ payload.issue.number }}: {{payload.issue.title}}')).success, true);
  for (const [prompt, message] of [
    ['Triage {{payload.issue.number', /bad prompt template: unclosed "\{\{" at offset 7/],
    ['Triage {{ payload issue }}', /bad prompt template: "\{\{payload issue\}\}" at offset 7 is not a name/],
  ] as const) {
    const r = agentSettingsSchema.safeParse(settings(prompt));
    assert.equal(r.success, false, prompt);
    const issue = r.error!.issues.find((i) => i.path.join('.') === 'jobs.0.prompt');
    assert.ok(issue, JSON.stringify(r.error!.issues));
    assert.match(issue.message, message);
  }
});
