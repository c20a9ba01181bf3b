// What the 148 KB paths cost Weir in its own code, measured so a busy machine cannot spoil it
// (issue 15): `node dist/native-bench/body-path-cpu.js [--calls N] [--repeats R] [NAME=DIST …]`.
//
// Per repeat and build (the order rotating every repeat), a child process loads THAT build's body
// collector, body scan and translation cache (a `dist` with the repository's node_modules beside
// it; default: this build) and runs, on a worker thread as Weir's workers do (glibc serves a
// worker thread from an arena of its own, which returns memory differently from the main one):
//   claude      scenario 2's own work: the 148 KB body collected from 64 KB chunks, then scanned;
//   translated  scenario 7's cached call: the same, then the translation cache's answer for an
//               OpenAI-dialect deployment (every part found: the first calls warmed it).
// Per call: the worker's on-CPU time (/proc/thread-self/schedstat: waiting for a core is not
// counted) and the process's minor page faults (getrusage: fresh pages touched, which on this VM
// cost 7–18 µs each). Medians over the repeats, builds side by side.
//
// `--evict MB`: before each call the worker touches MB of memory of its own, as the rest of a
// server's turn (the mock, the client, other requests) does between two calls of a session, and
// each call then reads what it would send, a byte a cache line, as the kernel's copy to the
// socket does. Each call is then timed alone (the clock read around it, the worker pinned) and
// the figure is the median call, not the mean of blocks: the eviction's own time is left out
// rather than taken off (it is ~10× a call and moves more than a call costs). In a loop without
// it a call finds every kept part in the processor's caches, which a server's call does not.
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { claudeCodeBody, messagesSpec } from './bodies';
import { translatedRequests } from './translated';
import { median } from './stats';
import { threadNs } from './procfs';
import { pinNote, printFromWorker, rigArgs, runBuildChild } from './build-child';

const HERE_DIST = path.resolve(__dirname, '..');
const CHUNK = 64 * 1024;
const LOOPS = ['claude', 'translated'] as const;
type Loop = (typeof LOOPS)[number];

interface Sample {
  loop: Loop;
  usPerCall: number;
  faultsPerCall: number;
}

/** In the worker: the loops over the build's own modules. */
function measure(dist: string, calls: number, evictMb: number): Sample[] {
  const { BodyCollector } = require(path.join(dist, 'src/server/body-collector.js')) as typeof import('../src/server/body-collector');
  const { scanBody } = require(path.join(dist, 'src/gateway/body-scan.js')) as typeof import('../src/gateway/body-scan');
  const { TranslationCache } = require(path.join(dist, 'src/gateway/translation-cache.js')) as typeof import('../src/gateway/translation-cache');
  // A build with reused body buffers gets its buffers back as a call does once undici wrote the
  // body and the answer completed (LentBody's proof, simulated: nothing is sent here).
  const lentPath = path.join(dist, 'src/server/large-buffers.js');
  const lb = fs.existsSync(lentPath) ? (require(lentPath) as typeof import('../src/server/large-buffers')) : null;
  // As the gateway's client does once a body went out whole: a lent buffer, or a translation's
  // pieces (whose client buffer goes back with them), given back.
  const sent = (body: Buffer | readonly Buffer[], client: Buffer | null): void => {
    if (!lb || (!Array.isArray(body) && !lb.isLent(body as Buffer))) return;
    const l = new lb.LentBody(body as Buffer, client !== null && lb.isLent(client) ? client : null);
    const it = l[Symbol.iterator]();
    while (!it.next().done);
    l.answered();
  };
  // --evict: memory to touch between calls, and the reads of what a call sends.
  const evictee = Buffer.alloc(evictMb * 1024 * 1024);
  let touched = 0;
  const evict = (): void => {
    for (let i = 0; i < evictee.length; i += 64) touched += ++evictee[i]!;
  };
  const read = (body: Buffer | readonly Buffer[]): void => {
    if (evictMb === 0) return;
    for (const b of Array.isArray(body) ? (body as readonly Buffer[]) : [body as Buffer]) for (let i = 0; i < b.length; i += 64) touched += b[i]!;
  };
  const claude = messagesSpec(claudeCodeBody()).body!;
  const toGpt = translatedRequests().translated.body!;
  const cache = new TranslationCache();
  let sink = 0;
  const one = (loop: Loop): void => {
    const body = loop === 'claude' ? claude : toGpt;
    const c = new BodyCollector(body.length);
    for (let at = 0; at < body.length; at += CHUNK) c.add(body.subarray(at, at + CHUNK), at + CHUNK >= body.length);
    const raw = c.take();
    // As the gateway scans: the messages recorded only for a model whose calls are translated, and
    // under the caller's key (the master key's scope), so the values it resends are compared, not
    // walked (known-values.ts; a build before it ignores the argument). The body is the same on
    // every call: each is found whole.
    const scan = scanBody(raw, loop === 'translated', 'master');
    sink += scan.modelEnd;
    if (loop === 'translated') {
      // What the scan recorded, as the gateway hands it over: the whole scan, or, for a build
      // before the scan recorded `messages`, its member spans (a build before those ignores the argument).
      const t = cache.translate(raw, { model: 'bench-gpt' }, ('messages' in scan ? scan : (scan as { members: number[] }).members) as never);
      if (t === null || typeof t !== 'object') throw new Error('the translation cache did not translate the body');
      sink += t.body.length;
      read(t.body);
      sent(t.body, raw);
    } else {
      read(raw);
      sent(raw, null);
    }
  };
  for (const loop of LOOPS) for (let i = 0; i < Math.max(200, calls / 10); i++) one(loop);
  // The two loops in alternating blocks, so what one leaves behind (garbage, arena growth) lands on both alike.
  const ns = [0, 0];
  const faults = [0, 0];
  const each: number[][] = [[], []];
  const block = Math.max(1, Math.floor(calls / 20));
  for (let done = 0; done < calls; done += block) {
    for (let k = 0; k < LOOPS.length; k++) {
      if (evictMb > 0) {
        for (let i = 0; i < block; i++) {
          evict();
          // The faults of the call alone, not the eviction's.
          const f0 = process.resourceUsage().minorPageFault;
          const t0 = process.hrtime.bigint();
          one(LOOPS[k]!);
          each[k]!.push(Number(process.hrtime.bigint() - t0));
          faults[k]! += process.resourceUsage().minorPageFault - f0;
        }
      } else {
        const f0 = process.resourceUsage().minorPageFault;
        const t0 = threadNs();
        for (let i = 0; i < block; i++) one(LOOPS[k]!);
        ns[k]! += threadNs() - t0;
        faults[k]! += process.resourceUsage().minorPageFault - f0;
      }
    }
  }
  if (sink === 0) throw new Error('nothing measured');
  const n = Math.ceil(calls / block) * block;
  return LOOPS.map((loop, k) => ({ loop, usPerCall: (evictMb > 0 ? median(each[k]!) : ns[k]! / n) / 1000, faultsPerCall: faults[k]! / n }));
}


function runChild(dist: string, calls: number, evictMb: number): Promise<Sample[]> {
  return runBuildChild<Sample[]>(__filename, [dist, String(calls), String(evictMb)]);
}

async function main(): Promise<void> {
  const { opts, builds } = rigArgs(process.argv.slice(2), { calls: 3000, repeats: 5, evict: 0 }, HERE_DIST, 'body-path-cpu.js [--calls N] [--repeats R] [--evict MB] [NAME=DIST …]');
  const { calls, repeats, evict } = opts;
  const got = new Map<string, Sample[][]>(builds.map(([n]) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < builds.length; k++) {
      const [name, dist] = builds[(r + k) % builds.length]!;
      got.get(name)!.push(await runChild(dist, calls, evict));
      process.stderr.write(`repeat ${r + 1}/${repeats} ${name} done\n`);
    }
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`| build | path | µs/call (${evict > 0 ? 'median call, pinned' : 'on-CPU, worker thread'}) [min…max] | minor faults/call [min…max] |`);
  console.log(`| :--- | :--- | ---: | ---: |`);
  for (const loop of LOOPS) {
    for (const [name] of builds) {
      const s = got.get(name)!.map((rep) => rep.find((x) => x.loop === loop)!);
      const us = s.map((x) => x.usPerCall);
      const f = s.map((x) => x.faultsPerCall);
      console.log(`| ${name} | ${loop} | ${median(us).toFixed(1)} [${Math.min(...us).toFixed(1)}…${Math.max(...us).toFixed(1)}] | ${median(f).toFixed(2)} [${Math.min(...f).toFixed(2)}…${Math.max(...f).toFixed(2)}] |`);
    }
  }
  const cold = evict > 0 ? `, ${evict} MB touched before each call and what it sends read, the median call timed alone` : '';
  console.log(`\n${calls} calls a repeat, ${repeats} repeats${cold}, ${pinNote()}; load average at the end ${load}`);
}

if (!isMainThread) {
  const { dist, calls, evictMb } = workerData as { dist: string; calls: number; evictMb: number };
  parentPort!.postMessage(measure(dist, calls, evictMb));
} else if (process.argv[2] === '--child') {
  void printFromWorker(__filename, { dist: process.argv[3]!, calls: Number(process.argv[4]), evictMb: Number(process.argv[5] ?? 0) });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
