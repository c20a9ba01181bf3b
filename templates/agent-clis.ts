// The agent CLIs a sandbox template installs, at the versions Weir is tested with (its own
// devDependencies), so a run never spends minutes installing 300 MB and never meets a CLI newer
// than the harness that reads its output.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { devDependencies: Record<string, string> };

export const AGENT_CLIS = ['@anthropic-ai/claude-code', '@openai/codex'].map((name) => `${name}@${pkg.devDependencies[name]}`);
/** What the agents and Weir's own commands (the diff, the clone) need besides the CLIs. */
export const SYSTEM_PACKAGES = ['git', 'curl', 'ca-certificates', 'ripgrep'];
/** The template's / snapshot's name as sandboxes refer to it. */
export const TEMPLATE_NAME = process.env.WEIR_TEMPLATE_NAME || 'weir-agents';
