// Scenario 11 (`--scenario scaleout`, never in the default set): what sharing limits through Redis
// costs. Two Weir instances, one worker thread each, on one redis-server of this machine and on
// scenario 4's PostgreSQL, serve the same virtual key (KEY_LIMITS: a budget and rpm/tpm, so every
// request goes through the rpm and budget leases), interleaved in the same rounds with the mock
// answered directly and with scenario 4's single-instance governed Weir on a key of its own:
//   CPU per request   each instance's process, against the governed Weir's;
//   added p50         each instance minus the mock, against the governed Weir's;
//   Redis commands    INFO commandstats' total calls over the rounds, per request the two
//                     instances answered (target ≤ 0.05 outside strict mode): lease refills,
//                     the instance heartbeat and pub/sub, everything Weir sent.
// Then strict mode's price, in rounds of their own (so its one script per admission does not
// count in the figure above): instance A on a key with `weir_strict_limits: true`, interleaved with
// the same key as before on A and with the governed Weir; CPU, added p50 and commands per request.
import fs from 'node:fs';
import path from 'node:path';
import { chatSpec, smallChat } from './bodies';
import { governedConfig, KEY_LIMITS, type Governed } from './governed';
import { interleavedLatency } from './latency-rounds';
import type { Plan } from './plan';
import { startGateway } from './processes';
import type { Progress } from './progress';
import type { LatencyRow } from './results';
import { perRepeatDiff } from './translated';
import { LABELS, makeTarget, type Target } from './targets';
import type { Spread } from './stats';

const ms = (s: Spread) => `${s.median.toFixed(3)} ms [${s.min.toFixed(3)}…${s.max.toFixed(3)}]`;

/** Total calls of every command Redis has served (INFO commandstats). */
function commandCalls(info: string): number {
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

export async function scaleOutScenario(o: { governed: Governed; direct: Target; plan: Plan; progress: Progress; workDir: string }): Promise<{ latency: LatencyRow[]; notes: string[] }> {
  // Loaded only here, as scenario 4 loads its PostgreSQL: it finds (or installs) redis-server.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startRedisServer } = require('../test/support/redis-server') as typeof import('../test/support/redis-server');
  o.progress.set('11 scale-out', 'starting redis-server and two Weir instances');
  const redis = await startRedisServer();
  const journals: string[] = [];
  const weirs: Awaited<ReturnType<typeof startGateway>>[] = [];
  try {
    const config = governedConfig(o.direct.url, 'sk-bench-master', o.governed.databaseUrl).replace('general_settings:', `router_settings:\n  redis_host: 127.0.0.1\n  redis_port: ${redis.port}\ngeneral_settings:`);
    for (const name of ['a', 'b']) {
      const configPath = path.join(o.workDir, `weir-scaleout-${name}.yaml`);
      fs.writeFileSync(configPath, config);
      const journal = fs.mkdtempSync(path.join(o.workDir, `journal-scaleout-${name}-`));
      journals.push(journal);
      weirs.push(await startGateway({ configPath, workers: 1, name: `weir scale-out ${name}`, env: { WEIR_JOURNAL_DIR: journal } }));
    }
    const key = await newKey(weirs[0]!.url);
    const governedKey = await o.governed.newKey();
    const list: Target[] = [
      o.direct,
      { ...o.governed.target, key: governedKey },
      { ...makeTarget('scaleout-a', weirs[0]!.url, weirs[0]!.child.pid), label: LABELS['scaleout-a'], key },
      { ...makeTarget('scaleout-b', weirs[1]!.url, weirs[1]!.child.pid), label: LABELS['scaleout-b'], key },
    ];
    const spec = chatSpec(smallChat());
    const before = commandCalls(String(await redis.command(['INFO', 'commandstats'])));
    const latency = await interleavedLatency(list, spec, { ...o.plan.chat, repeats: o.plan.repeats, sse: false }, o.progress, '11 scale-out');
    const after = commandCalls(String(await redis.command(['INFO', 'commandstats'])));
    const row = (k: string) => latency.find((r) => r.target === k)!;
    const served = row('scaleout-a').sent + row('scaleout-b').sent;
    // The INFO calls themselves are not Weir's.
    const perRequest = (after - before - 1) / Math.max(1, served);
    const added = (k: string) => perRepeatDiff(row(k).abs.p50, row('direct').abs.p50);
    const g = row('governed');
    const cpu = (k: string) => `${row(k).cpuUsPerReq.toFixed(0)} µs`;
    // Strict mode: every admission waits for one Redis script (worker → control thread → Redis).
    const strictKey = await newKey(weirs[0]!.url, { metadata: { weir_strict_limits: true } });
    const strictList: Target[] = [
      o.direct,
      { ...o.governed.target, key: governedKey },
      { ...makeTarget('scaleout-a', weirs[0]!.url, weirs[0]!.child.pid), label: LABELS['scaleout-a'], key },
      { ...makeTarget('scaleout-strict', weirs[0]!.url, weirs[0]!.child.pid), label: LABELS['scaleout-strict'], key: strictKey },
    ];
    o.progress.set('11 scale-out', 'strict mode');
    const beforeStrict = commandCalls(String(await redis.command(['INFO', 'commandstats'])));
    const strict = await interleavedLatency(strictList, spec, { ...o.plan.chat, repeats: o.plan.repeats, sse: false }, o.progress, '11 scale-out strict');
    const afterStrict = commandCalls(String(await redis.command(['INFO', 'commandstats'])));
    const srow = (k: string) => strict.find((r) => r.target === k)!;
    const strictPerRequest = (afterStrict - beforeStrict - 1) / Math.max(1, srow('scaleout-a').sent + srow('scaleout-strict').sent);
    const sAdded = (k: string) => perRepeatDiff(srow(k).abs.p50, srow('direct').abs.p50);
    const sCpu = (k: string) => `${srow(k).cpuUsPerReq.toFixed(0)} µs`;
    const errors = [...latency, ...strict].filter((r) => r.errors > 0).map((r) => `${r.label}: ${r.errors} errors (${r.firstError})`);
    return {
      latency: [...latency, ...strict.filter((r) => r.target === 'scaleout-strict')],
      notes: [
        `one key (max_budget ${KEY_LIMITS.max_budget}, rpm_limit ${KEY_LIMITS.rpm_limit}, tpm_limit ${KEY_LIMITS.tpm_limit}) served by both instances; the governed Weir of scenario 4 on a key of its own`,
        `CPU per request: governed (single instance) ${cpu('governed')}; instance A ${cpu('scaleout-a')}; instance B ${cpu('scaleout-b')}`,
        `added p50: governed ${ms(added('governed'))}; instance A ${ms(added('scaleout-a'))}; instance B ${ms(added('scaleout-b'))}`,
        `Redis commands per request: ${perRequest.toFixed(4)} (${after - before - 1} commands over ${served} requests; target ≤ 0.05)`,
        `strict mode, in rounds of its own: CPU per request governed ${sCpu('governed')}, instance A (leased key) ${sCpu('scaleout-a')}, instance A (strict key) ${sCpu('scaleout-strict')}; added p50 governed ${ms(sAdded('governed'))}, leased ${ms(sAdded('scaleout-a'))}, strict ${ms(sAdded('scaleout-strict'))}; Redis commands per request of those rounds ${strictPerRequest.toFixed(3)}`,
        `governed rows: ${g.sent} sent`,
        ...errors,
      ],
    };
  } finally {
    for (const w of weirs) await w.child.stop();
    await redis.stop();
    for (const j of journals) fs.rmSync(j, { recursive: true, force: true });
  }
}

async function newKey(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${url}/key/generate`, { method: 'POST', headers: { authorization: 'Bearer sk-bench-master', 'content-type': 'application/json' }, body: JSON.stringify({ ...KEY_LIMITS, ...extra }) });
  const text = await res.text();
  const key = res.ok ? (JSON.parse(text) as { key?: unknown }).key : undefined;
  if (typeof key !== 'string' || !key.startsWith('sk-')) throw new Error(`POST /key/generate: HTTP ${res.status} ${text.slice(0, 200)}`);
  return key;
}
