// What translating scenario 7's answer stream costs Weir's code, measured in one process so a busy
// machine spoils it less (issue 15): `node dist/native-bench/stream-translate-cpu.js [--streams N]
// [--repeats R] [NAME=DIST …]`.
//
// The stream is the mock's OpenAI chat stream for scenario 7 (64 text deltas, usage on, its
// `[DONE]`), translated to Anthropic events by THAT build's OpenAIToAnthropicStream (a `dist` with
// the repository's node_modules beside it; default: this build), handed over two ways:
//   whole       in one chunk, as when the upstream's events arrive in one read (the bench's mock);
//   events      one event per chunk, as from an upstream that paces its tokens;
//   obfuscated  in one chunk, each event as OpenAI's API writes it: `service_tier` and a random
//               `obfuscation` string of random length added to every chunk.
// Per repeat and build (the order rotating every repeat) a child process runs each way in
// alternating blocks; the figure is its on-CPU time per stream (/proc/thread-self/schedstat).
import fs from 'node:fs';
import path from 'node:path';
import { median } from './stats';
import { threadNs } from './procfs';
import { pinNote, rigArgs, runBuildChild } from './build-child';

const HERE_DIST = path.resolve(__dirname, '..');
const WAYS = ['whole', 'events', 'obfuscated'] as const;
type Sample = Record<(typeof WAYS)[number], number>;

function measure(dist: string, streams: number): Sample {
  const { openaiStream } = require(path.join(dist, 'test/support/mock-responses.js')) as typeof import('../test/support/mock-responses');
  const { OpenAIToAnthropicStream } = require(path.join(dist, 'src/translate/stream-openai-to-anthropic.js')) as typeof import('../src/translate/stream-openai-to-anthropic');
  const script = openaiStream({ id: 'chatcmpl-2963a8281', created: 1796523621, model: 'bench-gpt', deltas: 64, includeUsage: true, promptTokens: 37_000 });
  const obfuscated = script.events.map((e, i) => {
    const data = e.slice(e.indexOf('data: ') + 6).trim();
    if (!data.startsWith('{')) return e;
    const pad = 'Xq3vZ0kL9mPw'.slice(0, 1 + ((i * 5) % 12));
    return `data: ${JSON.stringify({ ...(JSON.parse(data) as object), service_tier: 'default', obfuscation: pad })}\n\n`;
  });
  const chunks = { whole: [Buffer.from(script.events.join(''))], events: script.events.map((e) => Buffer.from(e)), obfuscated: [Buffer.from(obfuscated.join(''))] };
  let sink = 0;
  const one = (way: (typeof WAYS)[number]): void => {
    const t = new OpenAIToAnthropicStream({ model: 'bench-gpt', estimatedInputTokens: 37_000 });
    for (const c of chunks[way]) sink += t.push(c).length;
    sink += t.end().length;
  };
  for (const way of WAYS) for (let i = 0; i < Math.max(500, streams / 5); i++) one(way);
  const ns = { whole: 0, events: 0, obfuscated: 0 };
  const block = Math.max(1, Math.floor(streams / 20));
  for (let done = 0; done < streams; done += block) {
    for (const way of WAYS) {
      const t0 = threadNs();
      for (let i = 0; i < block; i++) one(way);
      ns[way] += threadNs() - t0;
    }
  }
  if (sink === 0) throw new Error('nothing translated');
  const n = Math.ceil(streams / block) * block;
  return { whole: ns.whole / n / 1000, events: ns.events / n / 1000, obfuscated: ns.obfuscated / n / 1000 };
}

function runChild(dist: string, streams: number): Promise<Sample> {
  return runBuildChild<Sample>(__filename, [dist, String(streams)]);
}

async function main(): Promise<void> {
  const { opts, builds } = rigArgs(process.argv.slice(2), { streams: 20_000, repeats: 5 }, HERE_DIST, 'stream-translate-cpu.js [--streams N] [--repeats R] [NAME=DIST …]');
  const { streams, repeats } = opts;
  const got = new Map<string, Sample[]>(builds.map(([n]) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < builds.length; k++) {
      const [name, dist] = builds[(r + k) % builds.length]!;
      got.get(name)!.push(await runChild(dist, streams));
    }
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log('| build | stream handed over | µs/stream (on-CPU) [min…max] |');
  console.log('| :--- | :--- | ---: |');
  for (const way of WAYS) {
    for (const [name] of builds) {
      const us = got.get(name)!.map((s) => s[way]);
      console.log(`| ${name} | ${way} | ${median(us).toFixed(1)} [${Math.min(...us).toFixed(1)}…${Math.max(...us).toFixed(1)}] |`);
    }
  }
  console.log(`\n${streams} streams a repeat, ${repeats} repeats, ${pinNote()}; load average at the end ${load}`);
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(measure(process.argv[3]!, Number(process.argv[4]))));
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
