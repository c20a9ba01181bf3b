// The scenarios of the issue, each as the requests it sends and the measurements it runs.
import type { ScenarioKey } from './args';
import { chatSpec, claudeCodeBody, messagesSpec, smallChat } from './bodies';
import { interleavedFanout } from './fanout';
import { interleavedLatency } from './latency-rounds';
import type { Plan } from './plan';
import type { Progress } from './progress';
import { interleavedRates } from './rates';
import type { ScenarioResult, StreamsRow } from './results';
import { soak } from './soak';
import { concurrentStreams } from './streams';
import type { Target } from './targets';
import { maxThroughput } from './throughput';
import { rotation } from './latency-rounds';

export interface ScenarioContext {
  targets: Target[];
  plan: Plan;
  progress: Progress;
  soak: { requests: number; rate: number };
}

export const SCENARIO_INFO: Record<ScenarioKey, { id: number; title: string }> = {
  chat: { id: 1, title: 'small OpenAI chat, master key' },
  claude: { id: 2, title: 'Claude-Code-sized /v1/messages to an Anthropic-dialect upstream, non-streaming' },
  stream: { id: 3, title: 'streaming chat, 64 deltas' },
  governed: { id: 4, title: 'governed path: virtual key, budget, rpm/tpm, spend logs in Postgres' },
  fanout: { id: 5, title: 'agent fan-out' },
  soak: { id: 6, title: 'soak' },
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
    r.throughput = await maxThroughput(targets, spec, { steps: plan.cannonSteps, durationS: plan.cannonS, p99LimitMs: plan.p99LimitMs, repeats: plan.cannonRepeats }, progress, '1 chat');
  }
  return r;
}

async function claude(ctx: ScenarioContext): Promise<ScenarioResult> {
  const r = base('claude');
  const { plan, targets, progress } = ctx;
  const body = claudeCodeBody() as { tools: unknown[]; messages: unknown[] };
  const spec = messagesSpec(body);
  r.notes.push(`body ${(spec.body!.length / 1024).toFixed(0)} KB, ${body.tools.length} tools, ${body.messages.length} messages`);
  r.latency = await interleavedLatency(targets, spec, { ...plan.claude, repeats: plan.repeats, sse: false }, progress, '2 claude');
  if (plan.rateScenarios.includes('claude')) {
    r.rates = await interleavedRates(targets, spec, { rates: [plan.rates[0]!], durationMs: plan.rateMs, warmupMs: plan.rateWarmupMs, repeats: plan.repeats }, progress, '2 claude');
  }
  if (plan.cannonScenarios.includes('claude')) {
    r.throughput = await maxThroughput(targets, spec, { steps: plan.cannonSteps, durationS: plan.cannonS, p99LimitMs: plan.p99LimitMs, repeats: plan.cannonRepeats }, progress, '2 claude');
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

export async function runScenario(key: ScenarioKey, ctx: ScenarioContext): Promise<ScenarioResult> {
  switch (key) {
    case 'chat': return chat(ctx);
    case 'claude': return claude(ctx);
    case 'stream': return stream(ctx);
    case 'governed': return { ...base('governed'), skipped: 'skipped: virtual keys not implemented yet' };
    case 'fanout': return fanout(ctx);
    case 'soak': return soakScenario(ctx);
  }
}
