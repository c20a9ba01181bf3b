// Runs the fake Google (fake-google.ts) as its own process, for the benchmark:
//   node dist/test/support/fake-google-main.js [--port N] [--chunk-bytes N] [--static-token T]
// Prints one line, `FAKE_GOOGLE_READY {"url":…,"serviceAccount":…,"apiKey":…,"project":…}`, once
// listening. Records no requests. Exits when its stdin ends (the bench holds a pipe to it).
import { startFakeGoogle } from './fake-google';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const fake = await startFakeGoogle({ port: Number(arg('--port') ?? 0), staticToken: arg('--static-token'), record: false });
  fake.chunkBytes = Number(arg('--chunk-bytes') ?? 0);
  // Streams of `tok0 ` … deltas, one event each, as the mock streams them (the bench reads them).
  const n = Number(arg('--deltas') ?? 16);
  const deltas = Array.from({ length: n }, (_, i) => `tok${i} `);
  fake.script = () => ({ reply: { text: deltas.join('') }, deltas });
  process.stdout.write(`FAKE_GOOGLE_READY ${JSON.stringify({ url: fake.url, serviceAccount: fake.serviceAccount, apiKey: fake.apiKey, project: fake.project })}\n`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
