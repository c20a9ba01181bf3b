// The scenarios of the issue, each as the requests it sends and the measurements it runs.
import { agentsScenario } from './agents';
import { bedrockScenario } from './bedrock';
import type { ScenarioKey } from './args';
import { chatSpec, claudeCodeBody, claudeCodeSession, messagesSpec, smallChat } from './bodies';
import { interleavedFanout } from './fanout';
import { gcRows, windowLog } from './gc-windows';
import { BATCH_WRITE_S, idleCpuRate, KEY_LIMITS, keyHash, PhaseMeter, type Governed } from './governed';
import { interleavedLatency } from './latency-rounds';
import type { Plan } from './plan';
import type { Progress } from './progress';
import { interleavedRates } from './rates';
import type { GovernedPhase, ScenarioResult, StreamsRow } from './results';
import { soak } from './soak';
import { concurrentStreams } from './streams';
import { LABELS, type Target } from './targets';
import { maxThroughput } from './throughput';
import { translatedPerTarget, translatedRequests, translatedSummary } from './translated';
import { rotation } from './latency-rounds';
import { googleScenario } from './google';
import { scaleOutScenario } from './scale-out';
import { growingHistory } from './history';
import { tailScenario, TAIL_RATE } from './tail';

export interface ScenarioContext {
  targets: Target[];
  plan: Plan;
  progress: Progress;
  soak: { requests: number; rate: number };
  /** Scenario 4's Weir with a database, or why there is none. */
  governed: Governed | string;
  /** Where scenario 8 starts its own Weir (with a database and an agent config). */
  agentsEnv: { workDir: string; workers: number; cpus?: string; profileDir?: string };
}

export const SCENARIO_INFO: Record<ScenarioKey, { id: number; title: string }> = {
  chat: { id: 1, title: 'small OpenAI chat, master key' },
  claude: { id: 2, title: 'Claude-Code-sized /v1/messages to an Anthropic-dialect upstream, non-streaming' },
  stream: { id: 3, title: 'streaming chat, 64 deltas' },
  governed: { id: 4, title: 'governed path: virtual key, budget, rpm/tpm, spend logs in Postgres' },
  fanout: { id: 5, title: 'agent fan-out' },
  soak: { id: 6, title: 'soak' },
  translated: { id: 7, title: 'translated streaming: Claude-Code-sized /v1/messages to an OpenAI-dialect upstream vs pass-through' },
  agents: { id: 8, title: 'agent runs: real Claude Code and light command agents started through /v1/agent/runs, followed by SSE' },
  bedrock: { id: 9, title: 'Claude on Bedrock: Claude-Code-sized streaming /v1/messages to the fake Bedrock vs the OpenAI-dialect pass-through, added time to first byte' },
  google: { id: 10, title: 'Google providers: added TTFB of Claude on Vertex AI and of Gemini translated, against the fake Google directly' },
  scaleout: { id: 11, title: 'scale-out: two Weir instances (one worker each) on one Redis and one PostgreSQL, one governed key, against the single-instance governed path' },
  history: { id: 12, title: 'growing history: translated streaming calls of Claude Code sessions at 10, 50 and 100 turns, each call one turn longer than the one before' },
  tail: { id: 13, title: `the long tail: p99 and p99.9 added at concurrency 1 and ${TAIL_RATE} req/s with their spread, GC pauses and allocation per request of Weir` },
};

function base(key: ScenarioKey): ScenarioResult {
  return { id: SCENARIO_INFO[key].id, key, title: SCENARIO_INFO[key].title, notes: [] };
}

async function chat(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('chat');
  const { plan, targets, progress } = ctx;
  const spec = chatSpec(smallChat());
  r.notes.push(`body ${spec.body!.length} bytes`);
  r.latency = await interleavedLatency(targets, spec, { ...plan.chat, repeats: plan.repeats, sse: false }, progress, '1 chat');
  if (plan.rateScenarios.includes('chat')) {
    r.rates = await interleavedRates(targets, spec, { rates: plan.rates, durationMs: plan.rateMs, warmupMs: plan.rateWarmupMs, repeats: plan.repeats }, progress, '1 chat');
  }
  if (plan.cannonScenarios.includes('chat')) {
    r.throughput = await maxThroughput(targets, spec, { steps: plan.cannonSteps, durationS: plan.cannonS, warmupS: plan.cannonWarmupS, p99LimitMs: plan.p99LimitMs, repeats: plan.cannonRepeats, generator: plan.generator }, progress, '1 chat');
  }
  return r;
}

async function claude(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('claude');
  const { plan, targets, progress } = ctx;
  const body = claudeCodeBody() as { tools: unknown[]; messages: unknown[] };
  const spec = messagesSpec(body);
  // Concurrency 1 plays a session: each round of calls the last calls of one, as Claude Code sends
  // them (a turn more each, the cache breakpoint moved to the last message). The rates and
  // throughput send the one body above: the C generator sends one body.
  const calls = Math.max(1, Math.ceil(plan.claude.perRepeat / plan.claude.rounds));
  const session = claudeCodeSession(body, calls);
  r.notes.push(`body ${(spec.body!.length / 1024).toFixed(0)} KB, ${body.tools.length} tools, ${body.messages.length} messages`);
  r.notes.push(`concurrency 1: each round a session's last ${calls} calls, ${(session[0]!.length / 1024).toFixed(0)}–${(session[calls - 1]!.length / 1024).toFixed(0)} KB, a turn more each and the cache breakpoint on the last message; rates and throughput: the body above`);
  r.latency = await interleavedLatency(targets, { ...spec, bodies: session }, { ...plan.claude, repeats: plan.repeats, sse: false }, progress, '2 claude');
  if (plan.rateScenarios.includes('claude')) {
    r.rates = await interleavedRates(targets, spec, { rates: [plan.rates[0]!], durationMs: plan.rateMs, warmupMs: plan.rateWarmupMs, repeats: plan.repeats }, progress, '2 claude');
  }
  if (plan.cannonScenarios.includes('claude')) {
    r.throughput = await maxThroughput(targets, spec, { steps: plan.cannonSteps, durationS: plan.cannonS, warmupS: plan.cannonWarmupS, p99LimitMs: plan.p99LimitMs, repeats: plan.cannonRepeats, generator: plan.generator }, progress, '2 claude');
  }
  return r;
}

async function stream(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('stream');
  const { plan, targets, progress } = ctx;
  const spec = chatSpec(smallChat({ stream: true }));
  r.latency = await interleavedLatency(targets, spec, { ...plan.stream, repeats: plan.repeats, sse: true }, progress, '3 stream');
  const paced = chatSpec(smallChat({ stream: true, mock: { paceMs: plan.streamPaceMs } }));
  r.notes.push(`${plan.deltas} deltas; concurrent streams paced ${plan.streamPaceMs} ms per delta; stall = a silence > ${plan.stallMs} ms or no end`);
  const rows: StreamsRow[] = [];
  for (const [i, n] of plan.streamLevels.entries()) {
    const level: StreamsRow[] = [];
    for (const t of rotation(targets, i)) {
      progress.set(`3 stream: ${n} concurrent streams`, t.label);
      const res = await concurrentStreams(t.url, paced, n, { expectedDeltas: plan.deltas, stallMs: plan.stallMs, timeoutMs: plan.deltas * plan.streamPaceMs + 60_000 });
      level.push({ ...res, target: t.kind, label: t.label, addedTtfbP50: null });
    }
    const d = level.find((x) => x.target === 'direct')!;
    for (const x of level) if (x.target !== 'direct') x.addedTtfbP50 = x.ttfbP50 - d.ttfbP50;
    rows.push(...targets.map((t) => level.find((x) => x.target === t.kind)!));
  }
  r.streams = rows;
  return r;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The end of a phase of scenario 4: waits proxy_batch_write_at + a margin after its last request,
 * counts the key's spend rows, and (when short) keeps counting for a while to tell late rows from
 * lost ones. CPU is measured up to the count, so the spend writer's flushes are included.
 */
async function settlePhase(
  g: Governed,
  ctx: ScenarioContext,
  o: { phase: GovernedPhase['phase']; key: string; sent: number; answered: number; failed: number; meter: PhaseMeter; exact: boolean; ownRunsUsPerReq: number },
): Promise<GovernedPhase> {
  const hash = keyHash(o.key);
  const waitMs = BATCH_WRITE_S * 1000 + ctx.plan.spendMarginMs;
  ctx.progress.set(`4 governed: spend rows (${o.phase})`, `waiting ${(waitMs / 1000).toFixed(1)} s for the spend writer`);
  await sleep(waitMs);
  const first = await g.rows(hash);
  const cpu = o.meter.end(o.sent);
  const enough = (n: number) => (o.exact ? n === o.sent : n >= o.answered && n <= o.sent);
  let later: { count: number; spendUsd: number } | null = null;
  let laterWaitMs: number | null = null;
  if (!enough(first.count)) {
    const t0 = Date.now();
    do {
      await sleep(1000);
      later = await g.rows(hash);
    } while (!enough(later.count) && Date.now() - t0 < ctx.plan.spendLateMs);
    laterWaitMs = waitMs + (Date.now() - t0);
  }
  const final = later ?? first;
  return {
    phase: o.phase,
    keyHash: hash,
    sent: o.sent,
    answered: o.answered,
    rows: first.count,
    waitMs,
    rowsLater: later ? later.count : null,
    laterWaitMs,
    match: enough(first.count),
    failed: o.failed,
    weirAllInUsPerReq: cpu.weirUsPerReq,
    outsideRunsUsPerReq: cpu.weirUsPerReq - o.ownRunsUsPerReq,
    controlUsPerReq: cpu.controlUsPerReq,
    postgresUsPerReq: cpu.postgresUsPerReq,
    keySpendUsd: await g.keySpend(hash),
    rowsSpendUsd: final.spendUsd,
  };
}

async function governed(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('governed');
  const g = ctx.governed;
  if (typeof g === 'string') return { ...r, skipped: g };
  const { plan, progress } = ctx;
  const spec = chatSpec(smallChat());
  const pick = (...kinds: string[]) => ctx.targets.filter((t) => kinds.includes(t.kind));
  r.notes.push(
    `body ${spec.body!.length} bytes; a virtual key per phase (max_budget ${KEY_LIMITS.max_budget}, rpm_limit ${KEY_LIMITS.rpm_limit}, tpm_limit ${KEY_LIMITS.tpm_limit}), priced deployments, spend logs every ${BATCH_WRITE_S} s (proxy_batch_write_at) into an embedded PostgreSQL`,
    'the governed Weir is a second Weir process (same workers, a database_url); "Weir" is the master-key Weir of scenario 1, without a database',
  );
  progress.set('4 governed: idle CPU of the governed Weir', `${plan.idleMs / 1000} s`);
  const idle = await idleCpuRate(g, plan.idleMs);
  const phases: GovernedPhase[] = [];

  const keyA = await g.newKey();
  const a = { ...g.target, key: keyA };
  const meterA = new PhaseMeter(g, idle);
  meterA.begin();
  r.latency = await interleavedLatency([...pick('direct', 'weir', 'minimal'), a], spec, { ...plan.chat, repeats: plan.repeats, sse: false }, progress, '4 governed');
  const la = r.latency.find((x) => x.target === 'governed')!;
  phases.push(await settlePhase(g, ctx, { phase: 'concurrency 1', key: keyA, sent: la.sent, answered: la.sent, failed: la.errors, meter: meterA, exact: true, ownRunsUsPerReq: la.cpuUsPerReq }));

  if (plan.cannonScenarios.includes('governed')) {
    const keyB = await g.newKey();
    const b = { ...g.target, key: keyB };
    const meterB = new PhaseMeter(g, idle);
    meterB.begin();
    r.throughput = await maxThroughput([...pick('weir', 'minimal'), b], spec, { steps: plan.cannonSteps, durationS: plan.cannonS, warmupS: plan.cannonWarmupS, p99LimitMs: plan.p99LimitMs, repeats: plan.cannonRepeats, generator: plan.generator }, progress, '4 governed');
    const q = r.throughput.find((x) => x.target === 'governed')!.requests!;
    phases.push(await settlePhase(g, ctx, { phase: 'max throughput', key: keyB, sent: q.sent, answered: q.answered, failed: q.failed, meter: meterB, exact: false, ownRunsUsPerReq: q.sent > 0 ? q.cpuUs / q.sent : NaN }));
  }
  r.governed = { batchWriteS: BATCH_WRITE_S, idleUsPerS: idle, phases };
  return r;
}

async function fanout(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('fanout');
  const { plan, targets, progress } = ctx;
  const f = plan.fanout;
  const spec = messagesSpec(claudeCodeBody({ stream: true, mock: { deltas: f.deltas } }));
  r.notes.push(`${f.agents} agents × ${f.calls} streaming /v1/messages calls (${(spec.body!.length / 1024).toFixed(0)} KB, ${f.deltas} deltas), ${f.thinkMs} ms think time`);
  r.fanout = await interleavedFanout(targets, spec, { ...f, repeats: plan.repeats }, progress, '5 fan-out');
  return r;
}

async function soakScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('soak');
  const weir = ctx.targets.find((t) => t.kind === 'weir')!;
  r.soak = await soak(weir, chatSpec(smallChat()), { requests: ctx.soak.requests, rate: ctx.soak.rate, sampleEveryMs: 10_000 }, ctx.progress);
  return r;
}

/**
 * Scenario 7: the same streaming Claude-Code-sized /v1/messages through Weir to an Anthropic-dialect
 * deployment (pass-through) and to an OpenAI-dialect one (translated both ways), interleaved with
 * the mock answered directly in both dialects; every answer is checked whole (translated.ts).
 */
async function translated(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('translated');
  const { plan, targets, progress } = ctx;
  const direct = targets.find((t) => t.kind === 'direct')!;
  const weir = targets.find((t) => t.kind === 'weir')!;
  // Weir's two paths are one process: each target's CPU is counted over its own rounds only.
  const viaTranslation: Target = { ...weir, kind: 'translated', label: LABELS.translated };
  const list: Target[] = [direct, weir, viaTranslation, { ...direct, kind: 'direct-openai', label: LABELS['direct-openai'] }];
  const req = translatedRequests();
  r.notes.push(
    `client body ${(req.passThrough.body!.length / 1024).toFixed(0)} KB (${req.tools} tools, ${req.messages} messages, stream), ${plan.deltas} text deltas; upstream chat body on the translated path ${(req.upstreamChat.body!.length / 1024).toFixed(0)} KB`,
    'every answer is checked whole: the Anthropic event sequence (message_start … every text delta in order … message_stop), or for the mock\'s chat stream every content delta, finish_reason stop and [DONE]',
  );
  const windows = windowLog();
  r.latency = await interleavedLatency(list, req.passThrough, { ...plan.translated, repeats: plan.repeats, sse: true, per: translatedPerTarget(req, plan.deltas), onWindow: windows.onWindow }, progress, '7 translated');
  r.translated = translatedSummary(r.latency, plan.deltas);
  // Weir runs traced (run.ts): the GCs of each path, told apart by the windows of its rounds.
  if (weir.gc) r.gc = gcRows('concurrency 1', [weir, viaTranslation], windows.of);
  return r;
}

/** Scenario 8: agent runs through the API of a Weir of its own (agents.ts). */
async function agents(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('agents');
  const a = ctx.plan.agents;
  const direct = ctx.targets.find((t) => t.kind === 'direct')!;
  r.notes.push(
    `light agent: the command harness running bash + curl, ${a.calls} streaming chat calls (${a.deltas} deltas) ${a.thinkMs} ms apart; Claude Code: one short text turn from the mock; every run followed by its own SSE watcher`,
    `data plane: a small chat at concurrency 1, Weir and the mock in alternation, during each fan-out vs a ${(a.idleMs / 1000).toFixed(0)} s window without it just before`,
  );
  r.agents = await agentsScenario({ mockUrl: direct.url, directUrl: direct.url, ...ctx.agentsEnv, opts: a, progress: ctx.progress });
  r.notes.push(...r.agents.notes);
  return r;
}

/** Scenario 9: Claude on Bedrock against the fake Bedrock, through a Weir of its own (bedrock.ts). */
async function bedrock(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('bedrock');
  const direct = ctx.targets.find((t) => t.kind === 'direct')!;
  const out = await bedrockScenario({ mockUrl: direct.url, workDir: ctx.agentsEnv.workDir, workers: ctx.agentsEnv.workers, cpus: ctx.agentsEnv.cpus, plan: ctx.plan, progress: ctx.progress });
  r.latency = out.latency;
  r.notes.push(...out.notes);
  return r;
}

/** Scenario 10: the Google paths against the fake Google, with a Weir of its own (google.ts). */
async function google(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('google');
  const mock = ctx.targets.find((t) => t.kind === 'direct')!;
  const g = await googleScenario({ mock, plan: ctx.plan, progress: ctx.progress, workDir: ctx.agentsEnv.workDir, workers: ctx.agentsEnv.workers });
  r.latency = g.latency;
  r.notes.push(...g.notes);
  return r;
}

/** Scenario 11: two instances on one Redis, next to scenario 4's governed Weir (scale-out.ts). */
async function scaleout(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('scaleout');
  const g = ctx.governed;
  if (typeof g === 'string') return { ...r, skipped: g };
  const direct = ctx.targets.find((t) => t.kind === 'direct')!;
  const out = await scaleOutScenario({ governed: g, direct, plan: ctx.plan, progress: ctx.progress, workDir: ctx.agentsEnv.workDir });
  r.latency = out.latency;
  r.notes.push(...out.notes);
  return r;
}

/** Scenario 12: sessions of growing histories, translated and passed through (history.ts). */
async function history(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('history');
  const weir = ctx.targets.find((t) => t.kind === 'weir')!;
  const out = await growingHistory(weir, ctx.plan.history, ctx.plan.deltas, ctx.progress);
  r.history = out.rows;
  r.notes.push(...out.notes);
  return r;
}

/** Scenario 13: the long tail, with the GC trace of both Weirs (tail.ts). */
async function tail(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('tail');
  const out = await tailScenario({ targets: ctx.targets, governed: ctx.governed, plan: ctx.plan, progress: ctx.progress });
  r.latency = out.latency;
  r.rates = out.rates;
  r.gc = out.gc;
  r.notes.push(...out.notes);
  return r;
}

export async function runScenario(key: ScenarioKey, ctx: ScenarioContext): Promise<ScenarioResult> {
  switch (key) {
    case 'chat': return chat(ctx);
    case 'claude': return claude(ctx);
    case 'stream': return stream(ctx);
    case 'governed': return governed(ctx);
    case 'fanout': return fanout(ctx);
    case 'soak': return soakScenario(ctx);
    case 'translated': return translated(ctx);
    case 'agents': return agents(ctx);
    case 'bedrock': return bedrock(ctx);
    case 'google': return google(ctx);
    case 'scaleout': return scaleout(ctx);
    case 'history': return history(ctx);
    case 'tail': return tail(ctx);
  }
}
