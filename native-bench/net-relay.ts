// What the local sandbox's network boundary adds per model call (sandbox/net-boundary.ts):
//   node dist/native-bench/net-relay.js [--requests N] [--rounds R]
// A stand-in gateway on a thread of its own answers each POST with a chat completion's body. A
// client in a bwrap sandbox (launch() as Weir builds it) sends N sequential POSTs, once straight to
// the host port (a sandbox without a boundary: the host's network) and once under the boundary
// (its own network namespace: net-relay.js inside, the unix socket, Weir's forwarder, here on
// this thread; Weir runs it on the egress proxy's thread: net-boundary-cpu.js compares the two), alternating R rounds of each, both over one kept-alive
// connection (as the agents' SDKs call) and with a new connection per call. It prints the median
// per round, the median of those, and their difference: the relay's share. Needs bwrap.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { chooseMode, findOnPath, hostIds, launch, type SandboxPaths } from '../src/agents/sandbox/isolation';
import { localOptions } from '../src/agents/sandbox/local-options';
import { NetBoundary } from '../src/agents/sandbox/net-boundary';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(v > 0)) throw new Error(`${name} needs a positive number`);
  return v;
}

const BODY = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', model: 'gpt', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench '.repeat(20) }, finish_reason: 'stop' }], usage: { prompt_tokens: 22, completion_tokens: 4, total_tokens: 26 } });

function startGateway(): Promise<{ port: number; worker: Worker }> {
  const code = `
    const http = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(workerData)); });
    s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`;
  const worker = new Worker(code, { eval: true, workerData: BODY });
  return new Promise((resolve) => worker.once('message', (port: number) => resolve({ port, worker })));
}

/** The client run inside the sandbox: N sequential POSTs, each one's time in ms on stdout as JSON. */
const CLIENT = `
  const http = require('node:http');
  const [url, n, fresh] = process.argv.slice(1);
  const agent = fresh === '1' ? false : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ model: 'gpt', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
  const out = [];
  (async () => {
    for (let i = 0; i < Number(n) + 5; i++) {
      const t0 = performance.now();
      await new Promise((resolve, reject) => {
        const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', reject);
        req.end(body);
      });
      if (i >= 5) out.push(performance.now() - t0);
    }
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  })();`;

function runInside(paths: SandboxPaths, url: string, n: number, fresh: boolean, net: NetBoundary | undefined): Promise<number[]> {
  const o = localOptions({ nice: 0 });
  const tools = { bwrap: findOnPath('bwrap'), prlimit: findOnPath('prlimit'), nice: findOnPath('nice'), setpriv: findOnPath('setpriv') };
  const l = launch('bwrap', tools, o, paths, [process.execPath, '-e', CLIENT, url, String(n), fresh ? '1' : '0'], paths.workdir, net?.spec());
  return new Promise((resolve, reject) => {
    const child = spawn(l.file, l.args, { uid: l.uid, gid: l.gid, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`client exited ${code}`))));
  });
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const n = arg('--requests', 300);
  const rounds = arg('--rounds', 5);
  const o = localOptions({});
  const tools = { bwrap: findOnPath('bwrap'), prlimit: findOnPath('prlimit') };
  if ((await chooseMode({ ...o, isolation: 'auto' }, tools)) !== 'bwrap') throw new Error('bwrap cannot make namespaces here');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-relay-bench-'));
  const run = path.join(root, 'r');
  const paths: SandboxPaths = { root, workdir: path.join(run, 'work'), home: path.join(run, 'home'), tmp: path.join(run, 'tmp') };
  fs.chmodSync(root, 0o755);
  for (const d of [run, paths.workdir, paths.home, paths.tmp]) fs.mkdirSync(d, { mode: 0o777 });
  for (const d of [paths.workdir, paths.home, paths.tmp]) fs.chmodSync(d, 0o777);
  const gw = await startGateway();
  const boundary = new NetBoundary(path.join(run, 'n'), hostIds(o));
  const inside = await boundary.reach('127.0.0.1', gw.port);
  console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores); ${n} requests a round, ${rounds} rounds each, alternated`);
  for (const fresh of [false, true]) {
    const direct: number[] = [];
    const relayed: number[] = [];
    for (let r = 0; r < rounds; r++) {
      direct.push(median(await runInside(paths, `http://127.0.0.1:${gw.port}/v1/chat/completions`, n, fresh, undefined)));
      relayed.push(median(await runInside(paths, `http://127.0.0.1:${inside.port}/v1/chat/completions`, n, fresh, boundary)));
    }
    const d = median(direct);
    const rl = median(relayed);
    console.log(`${fresh ? 'new connection per call' : 'kept-alive connection  '}: host network p50 ${d.toFixed(3)} ms [${direct.map((x) => x.toFixed(3)).join(' ')}], boundary ${rl.toFixed(3)} ms [${relayed.map((x) => x.toFixed(3)).join(' ')}]: relay adds ${(rl - d).toFixed(3)} ms`);
  }
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await boundary.close();
  await gw.worker.terminate();
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
