// Runs the fake Bedrock runtime (fake-bedrock.ts) as its own process, for the benchmark:
//   node dist/test/support/fake-bedrock-main.js --port 0 --access-key-id ID --secret-access-key S
//     [--model ID]… [--split N] [--exit-on-stdin-close]
// Prints one line, `FAKE_BEDROCK_READY {"url":…}`, once listening. It records no requests,
// answers the text `tok0 tok1 tok2 ` in three deltas, and without --split writes each answer in one piece.
import { startFakeBedrock } from './fake-bedrock';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let port = 0;
  let split = Number.MAX_SAFE_INTEGER;
  let accessKeyId = '';
  let secretAccessKey = '';
  let exitOnStdinClose = false;
  const models: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i] ?? '';
    switch (a) {
      case '--port': port = Number(v()); break;
      case '--split': split = Number(v()); break;
      case '--access-key-id': accessKeyId = v(); break;
      case '--secret-access-key': secretAccessKey = v(); break;
      case '--model': models.push(v()); break;
      case '--exit-on-stdin-close': exitOnStdinClose = true; break;
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  const fake = await startFakeBedrock({ port, split, record: false, models, keys: [{ accessKeyId, secretAccessKey }] });
  // Three text deltas `tok0 `, `tok1 `, `tok2 `: what the bench's stream checker counts as tokens.
  fake.reply = () => ({ text: 'tok0 tok1 tok2 ' });
  process.stdout.write(`FAKE_BEDROCK_READY ${JSON.stringify({ url: fake.url })}\n`);
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (exitOnStdinClose) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
