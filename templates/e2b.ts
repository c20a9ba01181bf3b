// E2B template with Claude Code and Codex (E2B's Template builder). Build it once per account:
//
//   E2B_API_KEY=e2b_… node dist/templates/e2b.js        (name: weir-agents, or WEIR_TEMPLATE_NAME)
//
// then name it in the sandbox: `{name: cloud, provider: e2b, template: weir-agents, api_key: os.environ/E2B_API_KEY}`.
// `--dockerfile` prints what would be built instead of building it.
import { Template, defaultBuildLogger } from 'e2b';
import { AGENT_CLIS, SYSTEM_PACKAGES, TEMPLATE_NAME } from './agent-clis';

export function e2bTemplate() {
  return Template()
    .fromNodeImage('22')
    .aptInstall(SYSTEM_PACKAGES, { noInstallRecommends: true })
    .npmInstall(AGENT_CLIS, { g: true })
    // The agent runs unprivileged, as E2B's sandboxes do by default.
    .runCmd('id -u user >/dev/null 2>&1 || useradd -m -s /bin/bash user', { user: 'root' })
    .setUser('user')
    .setWorkdir('/home/user');
}

if (require.main === module) {
  const t = e2bTemplate();
  if (process.argv.includes('--dockerfile')) {
    process.stdout.write(Template.toDockerfile(t) + '\n');
  } else {
    Template.build(t, TEMPLATE_NAME, { cpuCount: 2, memoryMB: 2048, onBuildLogs: defaultBuildLogger() }).then(
      (info) => process.stdout.write(`built E2B template ${info.name} (${info.templateId ?? ''})\n`),
      (e: unknown) => {
        process.stderr.write(`template build failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  }
}
