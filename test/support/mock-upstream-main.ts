// Runs the mock upstream as its own process (used by the benchmark harness, so the mock's CPU
// never competes with the gateway's event loop):
//   node dist/test/support/mock-upstream-main.js --port 0 --host 127.0.0.1 [--no-record] [--deltas N] [--pace-ms N]
//     [--exit-on-stdin-close]
// Prints exactly one line, `MOCK_READY {"url":...,"port":...}`, once listening; the parent reads
// it to learn the port. Exits 0 on SIGTERM/SIGINT after closing every socket. With
// --exit-on-stdin-close it also exits when its stdin ends, so a parent that spawns it with a
// stdin pipe takes it down even when that parent is killed outright.

import { startMockUpstream, type MockBehavior } from './mock-upstream';

function parseArgs(argv: string[]): { port: number; host: string; record: boolean; exitOnStdinClose: boolean; defaults: MockBehavior } {
  const out = { port: 0, host: '127.0.0.1', record: true, exitOnStdinClose: false, defaults: {} as MockBehavior };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--port': out.port = num(a, argv[++i]); break;
      case '--host': out.host = argv[++i] ?? out.host; break;
      case '--no-record': out.record = false; break;
      case '--exit-on-stdin-close': out.exitOnStdinClose = true; break;
      case '--deltas': out.defaults.deltas = num(a, argv[++i]); break;
      case '--pace-ms': out.defaults.paceMs = num(a, argv[++i]); break;
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const mock = await startMockUpstream({ port: args.port, host: args.host, record: args.record });
  mock.setDefault(args.defaults);
  process.stdout.write(`MOCK_READY ${JSON.stringify({ url: mock.url, port: mock.port })}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    mock.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (args.exitOnStdinClose) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`mock-upstream: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
