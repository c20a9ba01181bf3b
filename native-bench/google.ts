// Scenario 9 (`--scenario google`, never in the default set): the time to first byte Weir adds on
// its Google paths, against the provider answered directly, with the fake Google
// (test/support/fake-google-main) as its own process. One Claude-Code-sized streaming
// /v1/messages body (scenario 7's) goes, interleaved in the same rounds, to:
//   direct          the mock's /v1/chat/completions sent scenario 7's upstream chat body;
//   weir            Weir, model bench-gpt (OpenAI dialect): that chat body passed through — the
//                   reference path (target: Vertex Claude's added TTFB ≤ this one's + 0.1 ms);
//   vertex-direct   the fake's streamRawPredict sent the body Weir sends it (model out,
//                   anthropic_version in), with a bearer token the fake accepts;
//   vertex          Weir, model bench-vertex-claude: Claude on Vertex AI (body rewrite, cached
//                   Google token, Anthropic SSE passed through);
//   gemini-direct   the fake's AI Studio streamGenerateContent sent the Gemini body Weir sends it
//                   (made with Weir's own translators);
//   gemini          Weir, model bench-gemini: translated to Gemini and the Gemini stream back to
//                   Anthropic events.
// Added TTFB p50 per path = path − its own direct, repeat by repeat; the figures go in the notes.
import fs from 'node:fs';
import path from 'node:path';
import { anthropicToOpenAIChat } from '../src/translate';
import { chatToGemini } from '../src/translate/gemini-request';
import { vertexAnthropicBody } from '../src/providers/vertex';
import { chatSpec, claudeCodeBody, CHAT_MODEL, MASTER_KEY, messagesSpec } from './bodies';
import { interleavedLatency } from './latency-rounds';
import type { Plan } from './plan';
import { DIST, spawnReady, startGateway } from './processes';
import type { Progress } from './progress';
import type { LatencyRow } from './results';
import { perRepeatDiff } from './translated';
import { LABELS, type Target } from './targets';
import type { Spread } from './stats';

const TOKEN = 'ya29.bench-static-token';
const VERTEX_MODEL = 'claude-sonnet-4-5@20250929';
const GEMINI_MODEL = 'gemini-2.5-pro';

interface FakeInfo {
  url: string;
  serviceAccount: Record<string, string>;
  apiKey: string;
  project: string;
}

const ms = (s: Spread) => `${s.median.toFixed(3)} ms [${s.min.toFixed(3)}…${s.max.toFixed(3)}]`;

export async function googleScenario(o: { mock: Target; plan: Plan; progress: Progress; workDir: string; workers: number }): Promise<{ latency: LatencyRow[]; notes: string[] }> {
  const { child: fakeChild, match } = await spawnReady('fake google', process.execPath, [path.join(DIST, 'test', 'support', 'fake-google-main.js'), '--static-token', TOKEN], {
    ready: /FAKE_GOOGLE_READY (\{.*\})/,
    stdinPipe: true,
  });
  const fake = JSON.parse(match![1]!) as FakeInfo;
  fs.mkdirSync(o.workDir, { recursive: true });
  const sa = path.resolve(o.workDir, 'bench-google-sa.json');
  fs.writeFileSync(sa, JSON.stringify(fake.serviceAccount));
  const configPath = path.resolve(o.workDir, 'bench-google.yaml');
  fs.writeFileSync(
    configPath,
    `model_list:
  - model_name: ${CHAT_MODEL}
    litellm_params: { model: openai/${CHAT_MODEL}, api_base: ${o.mock.url}/v1, api_key: sk-bench }
  - model_name: bench-vertex-claude
    litellm_params: { model: vertex_ai/${VERTEX_MODEL}, vertex_project: ${fake.project}, vertex_location: us-east5, vertex_credentials: ${sa}, api_base: ${fake.url} }
  - model_name: bench-gemini
    litellm_params: { model: gemini/${GEMINI_MODEL}, api_key: ${fake.apiKey}, api_base: ${fake.url} }
general_settings: { master_key: ${MASTER_KEY} }
`,
  );
  // No metadata server, no gcloud file: the token comes from the fake's token endpoint only.
  const weir = await startGateway({ configPath, workers: o.workers, name: 'weir (google)', env: { GCE_METADATA_HOST: '127.0.0.1:9', METADATA_SERVER_DETECTION: 'none' } });
  try {
    const body = claudeCodeBody({ stream: true }) as Record<string, unknown>;
    const chat = anthropicToOpenAIChat(JSON.parse(JSON.stringify({ ...body, model: CHAT_MODEL })), { model: CHAT_MODEL }).body;
    const chatReq = chatSpec(chat);
    const vertexClient = messagesSpec({ ...body, model: 'bench-vertex-claude' });
    const vertexDirect = { path: `/v1/projects/${fake.project}/locations/us-east5/publishers/anthropic/models/${VERTEX_MODEL}:streamRawPredict`, method: 'POST' as const, headers: ['content-type', 'application/json', 'authorization', `Bearer ${TOKEN}`, 'anthropic-version', '2023-06-01'], body: vertexAnthropicBody(Buffer.from(JSON.stringify({ ...body, model: VERTEX_MODEL }))) };
    const geminiClient = messagesSpec({ ...body, model: 'bench-gemini' });
    const thinking = body.thinking as { budget_tokens?: number } | undefined;
    const gemini = chatToGemini(anthropicToOpenAIChat(JSON.parse(JSON.stringify({ ...body, model: 'bench-gemini' })), { model: GEMINI_MODEL }).body, GEMINI_MODEL, { thinkingBudget: thinking?.budget_tokens });
    const geminiDirect = { path: `/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`, method: 'POST' as const, headers: ['content-type', 'application/json', 'x-goog-api-key', fake.apiKey], body: Buffer.from(JSON.stringify(gemini.body)) };
    const w = { url: weir.url, pid: weir.child.pid, tree: false };
    const f = { url: fake.url, pid: fakeChild.pid, tree: false };
    const list: Target[] = [
      { ...o.mock, kind: 'direct', label: 'mock (direct, OpenAI chat)' },
      { ...w, kind: 'weir', label: 'Weir, OpenAI-dialect pass-through' },
      { ...f, kind: 'vertex-direct', label: LABELS['vertex-direct'] },
      { ...w, kind: 'vertex', label: LABELS.vertex },
      { ...f, kind: 'gemini-direct', label: LABELS['gemini-direct'] },
      { ...w, kind: 'gemini', label: LABELS.gemini },
    ];
    const spec = { direct: chatReq, weir: chatReq, 'vertex-direct': vertexDirect, vertex: vertexClient, 'gemini-direct': geminiDirect, gemini: geminiClient } as Record<string, typeof chatReq>;
    const latency = await interleavedLatency(list, chatReq, { ...o.plan.translated, repeats: o.plan.repeats, sse: true, per: (t) => ({ spec: spec[t.kind]! }) }, o.progress, '9 google');
    const row = (k: string) => latency.find((r) => r.target === k);
    const added = (a: string, d: string) => perRepeatDiff(row(a)?.ttfb?.abs.p50, row(d)?.ttfb?.abs.p50);
    const openai = added('weir', 'direct');
    const vertex = added('vertex', 'vertex-direct');
    const geminiAdded = added('gemini', 'gemini-direct');
    const margin = perRepeatDiff(vertex, openai);
    const errors = latency.filter((r) => r.errors > 0).map((r) => `${r.label}: ${r.errors} errors (${r.firstError})`);
    const notes = [
      `client body ${(vertexClient.body!.length / 1024).toFixed(0)} KB, streamed; the fake answers in whole writes; added TTFB p50 = path − its own direct, per repeat (median [min…max])`,
      `added TTFB p50: OpenAI-dialect pass-through ${ms(openai)}; Claude on Vertex ${ms(vertex)}; Gemini translated ${ms(geminiAdded)}`,
      `Claude on Vertex − OpenAI pass-through: ${ms(margin)} (target ≤ 0.100 ms: ${margin.median <= 0.1 ? 'met' : 'missed'})`,
      ...errors,
    ];
    return { latency, notes };
  } finally {
    await weir.child.stop();
    await fakeChild.stop();
  }
}
