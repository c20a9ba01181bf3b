#!/usr/bin/env node
// weir --config PATH --port 4000 [--host H] [--num_workers N] [--detailed_debug]: the same flags
// as `litellm`, and CONFIG_FILE_PATH / PORT / LITELLM_MASTER_KEY from the environment.
// `weir run …` is the agent-run client instead (src/cli-run.ts), `weir attach SESSION` a session's
// live terminal (src/cli-attach.ts): they load none of the gateway; `weir sandbox check NAME` makes,
// tries and destroys one sandbox of the config (src/cli-sandbox.ts).
import { availableParallelism } from 'node:os';
import { scavengeAlone } from './control/scavenge-flag';

const VERSION: string = (require('../../package.json') as { version: string }).version;

const USAGE = `usage: weir --config PATH [--port 4000] [--host 0.0.0.0] [--num_workers N] [--detailed_debug]

  --config, -c      LiteLLM config.yaml (or CONFIG_FILE_PATH)
  --port            port to listen on (or PORT; default 4000)
  --host            address to bind (default 0.0.0.0)
  --num_workers     worker threads (default: available cores)
  --detailed_debug  one log line per request
  --version         print the version

       weir run --profile NAME "prompt" | --job NAME [--input JSON]   (weir run --help)
       weir attach SESSION                                          (weir attach --help)
       weir sandbox check NAME [--config FILE] [--agent claude-code|codex]`;

function fail(msg: string): never {
  process.stderr.write(`weir: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function intArg(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) fail(`${name} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
  return n;
}

function parse(argv: string[]) {
  const o = {
    configPath: process.env.CONFIG_FILE_PATH ?? '',
    host: process.env.HOST ?? '0.0.0.0',
    port: process.env.PORT ? intArg('PORT', process.env.PORT, 0) : 4000,
    numWorkers: availableParallelism(),
    detailedDebug: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--config':
      case '-c':
        o.configPath = value() ?? fail('--config needs a path');
        break;
      case '--port':
        o.port = intArg('--port', value(), 0);
        break;
      case '--host':
        o.host = value() ?? fail('--host needs an address');
        break;
      case '--num_workers':
      case '--num-workers':
        o.numWorkers = intArg('--num_workers', value(), 1);
        break;
      case '--detailed_debug':
      case '--debug':
        o.detailedDebug = true;
        break;
      case '--version':
        process.stdout.write(`weir ${VERSION}\n`);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        fail(`unknown argument ${a}`);
    }
  }
  if (!o.configPath) fail('no config: pass --config PATH or set CONFIG_FILE_PATH');
  return o;
}

function serve(): void {
  const opts = parse(process.argv.slice(2));
  // Before the gateway's modules load: every scavenge from here on, on every thread, runs alone.
  scavengeAlone(process.execArgv);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { boot } = require('./control/boot') as typeof import('./control/boot');
  boot({ ...opts, version: VERSION }).catch((e: unknown) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { describeConfigError } = require('./config/load') as typeof import('./config/load');
    const msg = (e as { name?: string }).name === 'ConfigError' ? describeConfigError(e) : (e as Error).message;
    process.stderr.write(`weir: cannot start: ${msg}\n`);
    process.exit(1);
  });
}

if (process.argv[2] === 'sandbox') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { sandboxCommand } = require('./cli-sandbox') as typeof import('./cli-sandbox');
  sandboxCommand(process.argv.slice(3), process.env, process.stdout, process.stderr).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`weir sandbox: ${e instanceof Error ? e.message : String(e)}
`);
      process.exit(1);
    },
  );
} else if (process.argv[2] === 'run') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runCommand } = require('./cli-run') as typeof import('./cli-run');
  runCommand(process.argv.slice(3), process.env, process).then(
    // Exit once stdout has taken everything (a pipe may still hold the last lines).
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`weir run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
} else if (process.argv[2] === 'attach') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { attachCommand } = require('./cli-attach') as typeof import('./cli-attach');
  void attachCommand(process.argv.slice(3), process.env, process).then((code) => process.stdout.write('', () => process.exit(code)));
} else {
  serve();
}
