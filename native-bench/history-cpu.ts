// Scenario 12's bodies in one process (issue 15): what a later call of a Claude Code session costs
// Weir's own code on the translated path over the pass-through, at 10, 50 and 100 turns, measured
// so a busy machine cannot spoil it: `node dist/native-bench/history-cpu.js [--sessions N]
// [--rounds R] [--repeats K] [NAME=DIST …]`.
//
// Per repeat and build (the order rotating every repeat), a child process loads THAT build's body
// scan and translation cache (a `dist` with the repository's node_modules beside it; default:
// this build) and, on a worker thread as Weir's workers do, plays sessions as scenario 12 sends
// them: each call the one before plus an assistant turn and its tool result, the breakpoint on
// the last message, every session's first message its own. Each call is scanned as the gateway
// scans it under the master key's scope: for the translated path with its messages recorded,
// then translated by the cache; for the pass-through, scanned alone. The two alternate first from
// call to call, since the first to read a fresh body pays for bringing it into the caches.
// Lengths take turns session by session, and a round of every length is played unmeasured first.
//
// Per later call (all but a session's first): on-CPU time of the process (getrusage: the worker,
// and V8's helper threads working for it), for each path and their difference, the translated
// path's extra: the turn a call adds, translated, and what finding the rest costs, which is what
// should not follow the history's length. Each call's body is fresh memory, as a server's is.
// The server's figure (scenario 12) adds the answer's stream translation and moves far more with
// the host.
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { CHAT_MODEL } from './bodies';
import { sessionBase, sessionCall } from './history';
import { median } from './stats';
import { pinNote, printFromWorker, rigArgs, runBuildChild } from './build-child';

const HERE_DIST = path.resolve(__dirname, '..');
const TURNS = [10, 50, 100] as const;
const CALLS = 12;

interface Sample {
  turns: number;
  /** µs per later call: scan and translation, and the pass-through's scan. */
  translated: number;
  passThrough: number;
}

/** Every call of `sessions` sessions at each length, as bytes, made before anything is measured. */
function sessionBodies(sessions: number, rounds: number): Map<number, Buffer[][]> {
  const base = sessionBase(Math.max(...TURNS) + CALLS);
  let id = 0;
  const call = (s: number, turns: number): Buffer => Buffer.from(JSON.stringify(sessionCall(base, s, turns, CHAT_MODEL)));
  // Each round plays sessions of its own: a session replayed would be found whole.
  const out = new Map<number, Buffer[][]>();
  for (const t of TURNS) {
    const list: Buffer[][] = [];
    for (let k = 0; k < sessions * (rounds + 1); k++, id++) list.push(Array.from({ length: CALLS }, (_, c) => call(id, t + c)));
    out.set(t, list);
  }
  return out;
}

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** In the worker: the sessions through the build's own modules. */
function measure(dist: string, sessions: number, rounds: number): Sample[] {
  const { scanBody } = require(path.join(dist, 'src/gateway/body-scan.js')) as typeof import('../src/gateway/body-scan');
  const { TranslationCache } = require(path.join(dist, 'src/gateway/translation-cache.js')) as typeof import('../src/gateway/translation-cache');
  const cache = new TranslationCache();
  const bodies = sessionBodies(sessions, rounds);
  const spent = new Map(TURNS.map((t) => [t, { translated: 0, passThrough: 0, calls: 0 }]));
  let sink = 0;
  for (let round = 0; round <= rounds; round++) {
    for (let s = 0; s < sessions; s++) {
      for (const turns of TURNS) {
        const calls = bodies.get(turns)![round * sessions + s]!;
        for (let c = 0; c < CALLS; c++) {
          const raw = calls[c]!;
          const translated = (): number => {
            const t0 = cpuNs();
            const t = cache.translate(raw, { model: 'gpt-x' }, scanBody(raw, true, 'master'));
            if (t === null || typeof t !== 'object') throw new Error('the translation cache did not translate the body');
            sink += t.body.length;
            return cpuNs() - t0;
          };
          const passThrough = (): number => {
            const t0 = cpuNs();
            sink += scanBody(raw, false, 'master').modelEnd;
            return cpuNs() - t0;
          };
          let tr: number;
          let pass: number;
          if (c % 2 === 0) {
            tr = translated();
            pass = passThrough();
          } else {
            pass = passThrough();
            tr = translated();
          }
          if (round === 0 || c === 0) continue; // the warm-up round, and a session's first call
          const acc = spent.get(turns)!;
          acc.translated += tr;
          acc.passThrough += pass;
          acc.calls++;
        }
      }
    }
  }
  if (sink === 0) throw new Error('nothing measured');
  return TURNS.map((turns) => {
    const a = spent.get(turns)!;
    return { turns, translated: a.translated / a.calls / 1000, passThrough: a.passThrough / a.calls / 1000 };
  });
}


async function main(): Promise<void> {
  const usage = 'history-cpu.js [--sessions N] [--rounds R] [--repeats K] [NAME=DIST …]';
  const { opts, builds } = rigArgs(process.argv.slice(2), { sessions: 4, rounds: 3, repeats: 5 }, HERE_DIST, usage);
  const { sessions, rounds, repeats } = opts;
  if (sessions < 1 || rounds < 1 || repeats < 1) throw new Error(`usage: ${usage} (counts are at least 1)`);
  const got = new Map<string, Sample[][]>(builds.map(([n]) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < builds.length; k++) {
      const [name, dist] = builds[(r + k) % builds.length]!;
      got.get(name)!.push(await runBuildChild<Sample[]>(__filename, [dist, String(sessions), String(rounds)]));
      process.stderr.write(`repeat ${r + 1}/${repeats} ${name} done\n`);
    }
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}…${Math.max(...xs).toFixed(1)}]`;
  console.log('| build | turns | translated µs/call | pass-through µs/call | translated − pass-through |');
  console.log('| :--- | ---: | ---: | ---: | ---: |');
  for (const [name] of builds) {
    for (const turns of TURNS) {
      const s = got.get(name)!.map((rep) => rep.find((x) => x.turns === turns)!);
      console.log(`| ${name} | ${turns} | ${fmt(s.map((x) => x.translated))} | ${fmt(s.map((x) => x.passThrough))} | ${fmt(s.map((x) => x.translated - x.passThrough))} |`);
    }
  }
  console.log(`\n${sessions} sessions × ${CALLS} calls a length and round, ${rounds} rounds after a warm-up round, ${repeats} repeats (medians [min…max] of the repeats), ${pinNote()}`);
}

if (!isMainThread) {
  const { dist, sessions, rounds } = workerData as { dist: string; sessions: number; rounds: number };
  parentPort!.postMessage(measure(dist, sessions, rounds));
} else if (process.argv[2] === '--child') {
  void printFromWorker(__filename, { dist: process.argv[3]!, sessions: Number(process.argv[4]), rounds: Number(process.argv[5]) });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
