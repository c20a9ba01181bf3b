// Daytona snapshot with Claude Code and Codex (a declarative Daytona Image). Build it once per
// organization:
//
//   DAYTONA_API_KEY=dtn_… node dist/templates/daytona.js   (name: weir-agents, or WEIR_TEMPLATE_NAME)
//
// then name it in the sandbox: `{name: cloud, provider: daytona, snapshot: weir-agents, api_key: os.environ/DAYTONA_API_KEY}`.
// `--dockerfile` prints what would be built instead of building it.
import { Daytona, Image } from '@daytonaio/sdk';
import { AGENT_CLIS, SYSTEM_PACKAGES, TEMPLATE_NAME } from './agent-clis';

export function daytonaImage(): Image {
  return Image.base('node:22-bookworm-slim')
    .runCommands(
      `apt-get update && apt-get install -y --no-install-recommends ${SYSTEM_PACKAGES.join(' ')} && rm -rf /var/lib/apt/lists/*`,
      `npm install -g ${AGENT_CLIS.join(' ')}`,
      'useradd -m -s /bin/bash daytona || true',
    )
    .workdir('/home/daytona');
}

if (require.main === module) {
  const image = daytonaImage();
  if (process.argv.includes('--dockerfile')) {
    process.stdout.write(image.dockerfile + '\n');
  } else {
    const daytona = new Daytona({ apiUrl: process.env.DAYTONA_API_URL || 'https://app.daytona.io/api' });
    daytona.snapshot.create({ name: TEMPLATE_NAME, image, resources: { cpu: 2, memory: 4, disk: 8 } }, { onLogs: (l) => process.stdout.write(`${l}\n`) }).then(
      (s) => process.stdout.write(`built Daytona snapshot ${s.name}\n`),
      (e: unknown) => {
        process.stderr.write(`snapshot build failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  }
}
