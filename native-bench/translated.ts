// Scenario 7, translated streaming: the requests it sends and the figures it derives.
//
// One Claude-Code-sized streaming /v1/messages body goes, interleaved in the same rounds, to:
//   direct         the mock's /v1/messages (what an Anthropic upstream answers the client);
//   weir           Weir, model bench-claude: an Anthropic-dialect deployment, byte pass-through;
//   translated     Weir, model bench-gpt: an OpenAI-dialect deployment, so Weir translates the
//                  request to chat and the chat SSE stream back to Anthropic events;
//   direct-openai  the mock's /v1/chat/completions sent the very chat body Weir sends it on the
//                  translated path (made with Weir's own translator), to tell Weir's share of that
//                  path from the mock's.
// The mock streams the same number of deltas either way (its --deltas default; the translator
// would drop a mock_behavior field, so no per-request hint is used).
import { anthropicToOpenAIChat } from '../src/translate';
import { CHAT_MODEL, chatSpec, claudeCodeBody, CLAUDE_MODEL, messagesSpec } from './bodies';
import type { PerTarget } from './latency-rounds';
import type { LatencyRow } from './results';
import { spread, type Spread } from './stats';
import { checkAnthropicStream, checkOpenAIStream } from './stream-check';
import type { Target } from './targets';
import type { RequestSpec } from './timed-request';

export interface TranslatedRequests {
  /** The client's body to the pass-through model (also what the mock gets directly). */
  passThrough: RequestSpec;
  /** The same body naming the OpenAI-dialect model. */
  translated: RequestSpec;
  /** The chat body Weir sends upstream on the translated path, to the mock directly. */
  upstreamChat: RequestSpec;
  tools: number;
  messages: number;
}

export function translatedRequests(): TranslatedRequests {
  const body = claudeCodeBody({ stream: true }) as Record<string, unknown> & { tools: unknown[]; messages: unknown[] };
  const toGpt = { ...body, model: CHAT_MODEL };
  // As Translation.request does it for a deployment whose upstream model is bench-gpt.
  const chat = anthropicToOpenAIChat(JSON.parse(JSON.stringify(toGpt)), { model: CHAT_MODEL }).body;
  return {
    passThrough: messagesSpec({ ...body, model: CLAUDE_MODEL }),
    translated: messagesSpec(toGpt),
    upstreamChat: chatSpec(chat),
    tools: body.tools.length,
    messages: body.messages.length,
  };
}

/** What each target of scenario 7 is sent, and the check every one of its answers must pass. */
export function translatedPerTarget(req: TranslatedRequests, deltas: number): (t: Target) => PerTarget {
  const anthropic = (body: string) => checkAnthropicStream(body, deltas);
  const openai = (body: string) => checkOpenAIStream(body, deltas);
  return (t) => {
    switch (t.kind) {
      case 'translated': return { spec: req.translated, check: anthropic };
      case 'direct-openai': return { spec: req.upstreamChat, check: openai };
      default: return { spec: req.passThrough, check: anthropic };
    }
  };
}

/** One of the two paths through Weir. */
export interface PathFigures {
  /** The dialect of the request Weir sends upstream on this path. */
  upstream: 'anthropic' | 'openai';
  /** The mock answering this path's upstream request directly, absolute p50. */
  directP50: Spread;
  /** Added over the client's own request sent straight to the mock (/v1/messages). */
  addedP50: Spread;
  addedP99: Spread;
  /** Added over this path's upstream request sent straight to the mock: Weir's own share. */
  ownAddedP50: Spread;
  ownAddedP99: Spread;
  addedTtftP50: Spread | null;
  cpuUsPerReq: number;
  checked: number;
  errors: number;
}

export interface TranslatedSummary {
  deltas: number;
  /** translated − pass-through, per repeat (same rounds), end to end: what the client pays. */
  diffP50: Spread;
  diffP99: Spread;
  /** The same, less the mock's own difference between answering chat and messages. */
  netDiffP50: Spread;
  netDiffP99: Spread;
  /** Weir CPU µs per request, translated − pass-through. */
  cpuDiffUs: number;
  passThrough: PathFigures;
  translated: PathFigures;
}

/** a − b repeat by repeat (both measured in the same interleaved repeats). */
export function perRepeatDiff(a: Spread | undefined, b: Spread | undefined): Spread {
  const n = Math.min(a?.values.length ?? 0, b?.values.length ?? 0);
  return spread(Array.from({ length: n }, (_, i) => a!.values[i]! - b!.values[i]!));
}

const NONE: Spread = spread([]);

function path(row: LatencyRow | undefined, ownDirect: LatencyRow | undefined, clientDirect: LatencyRow | undefined, upstream: PathFigures['upstream']): PathFigures {
  return {
    upstream,
    directP50: ownDirect?.abs.p50 ?? NONE,
    addedP50: perRepeatDiff(row?.abs.p50, clientDirect?.abs.p50),
    addedP99: perRepeatDiff(row?.abs.p99, clientDirect?.abs.p99),
    ownAddedP50: perRepeatDiff(row?.abs.p50, ownDirect?.abs.p50),
    ownAddedP99: perRepeatDiff(row?.abs.p99, ownDirect?.abs.p99),
    addedTtftP50: row?.ttft?.added?.p50 ?? null,
    cpuUsPerReq: row?.cpuUsPerReq ?? NaN,
    checked: row?.checked ?? 0,
    errors: row?.errors ?? 0,
  };
}

/** Scenario 7's figures from its four latency rows. */
export function translatedSummary(rows: LatencyRow[], deltas: number): TranslatedSummary {
  const by = (k: LatencyRow['target']) => rows.find((r) => r.target === k);
  const direct = by('direct');
  const directOpenai = by('direct-openai');
  const weir = by('weir');
  const tr = by('translated');
  const passThrough = path(weir, direct, direct, 'anthropic');
  const translated = path(tr, directOpenai, direct, 'openai');
  const net = (p: 'p50' | 'p99') => {
    const own = p === 'p50' ? [translated.ownAddedP50, passThrough.ownAddedP50] : [translated.ownAddedP99, passThrough.ownAddedP99];
    return perRepeatDiff(own[0], own[1]);
  };
  return {
    deltas,
    diffP50: perRepeatDiff(tr?.abs.p50, weir?.abs.p50),
    diffP99: perRepeatDiff(tr?.abs.p99, weir?.abs.p99),
    netDiffP50: net('p50'),
    netDiffP99: net('p99'),
    cpuDiffUs: translated.cpuUsPerReq - passThrough.cpuUsPerReq,
    passThrough,
    translated,
  };
}
