// Scenario 9 (`--scenario bedrock`, never in the default set): Claude on Bedrock through Weir
// against the fake Bedrock runtime (test/support/fake-bedrock-main), next to the OpenAI-dialect
// pass-through against the mock, both with a Claude-Code-sized streaming body, interleaved in the
// same rounds through one Weir of the scenario's own (2 workers):
//   direct          the mock's /v1/chat/completions, sent the chat form of the body;
//   weir            Weir, model bench-gpt (OpenAI-dialect pass-through to the mock), the same chat body;
//   bedrock-direct  the fake Bedrock's InvokeModelWithResponseStream, sent the InvokeModel body Weir
//                   would send, signed once by the bench (the fake checks the signature, not its age);
//   weir-bedrock    Weir /v1/messages, model bench-bedrock (Claude on Bedrock: the body spliced,
//                   SigV4 over it, the event stream decoded to SSE).
// Target: Weir's added time to first byte on Bedrock (weir-bedrock − bedrock-direct) ≤ its added
// time to first byte on the OpenAI pass-through (weir − direct) + 0.1 ms, per repeat, median.
// The SHA-256 of the body that SigV4 needs is reported on its own (the median of many, timed here).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Hash } from '@smithy/hash-node';
import { CachedCredentials } from '../src/providers/bedrock/credentials';
import { invokeBody } from '../src/providers/bedrock/invoke';
import { AwsSigner } from '../src/providers/bedrock/sign';
import { CHAT_MODEL, chatSpec, claudeCodeBody, MASTER_KEY, messagesSpec } from './bodies';
import { interleavedLatency } from './latency-rounds';
import type { Plan } from './plan';
import { DIST, spawnReady, startGateway } from './processes';
import type { Progress } from './progress';
import type { LatencyRow } from './results';
import type { Spread } from './stats';
import { checkOpenAIStream } from './stream-check';
import { makeTarget, type Target } from './targets';
import type { RequestSpec } from './timed-request';
import { perRepeatDiff, translatedRequests } from './translated';

const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const BEDROCK_MODEL = 'bench-bedrock';
const KEYS = { accessKeyId: 'AKIABENCHKEY0000001', secretAccessKey: 'bench-secret-0123456789' };
const REGION = 'us-east-1';

export interface BedrockSummary {
  bodyKB: number;
  /** Added TTFB p50, per repeat: Weir on each path over its own upstream answered directly. */
  openaiAddedTtfbP50: Spread;
  bedrockAddedTtfbP50: Spread;
  /** bedrock − openai, per repeat: the target is ≤ 0.1 ms. */
  diffTtfbP50: Spread;
  /** The SHA-256 of the InvokeModel body: node:crypto, and the SDK's Hash (what the signer runs). */
  sha256Us: number;
  sdkSha256Us: number;
  met: boolean;
}

/** A Bedrock answer as Weir gives it: Anthropic SSE from message_start to message_stop. */
function checkBedrockSse(text: string): string | null {
  if (!text.startsWith('event: message_start\n')) return 'does not start with message_start';
  const last = text.trimEnd().split('\n\n').at(-1) ?? '';
  if (!last.startsWith('event: message_stop\n')) return `ends with ${last.slice(0, 40)}, not message_stop`;
  return null;
}

function medianUs(fn: () => void, n: number): number {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    fn();
    t.push((performance.now() - a) * 1000);
  }
  t.sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)]!;
}

async function sdkSha256Us(body: Buffer, n: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const h = new Hash('sha256');
    h.update(body);
    await h.digest();
    t.push((performance.now() - a) * 1000);
  }
  t.sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)]!;
}

export async function bedrockScenario(o: { mockUrl: string; workDir: string; workers: number; plan: Plan; progress: Progress; cpus?: string }): Promise<{ latency: LatencyRow[]; summary: BedrockSummary; notes: string[] }> {
  const main = path.join(DIST, 'test', 'support', 'fake-bedrock-main.js');
  const { match } = await spawnReady('fake bedrock', process.execPath, [main, '--port', '0', '--access-key-id', KEYS.accessKeyId, '--secret-access-key', KEYS.secretAccessKey, '--model', MODEL_ID, '--exit-on-stdin-close'], {
    cpus: o.cpus,
    ready: /FAKE_BEDROCK_READY (\{.*\})/,
    stdinPipe: true,
  });
  const fakeUrl = (JSON.parse(match![1]!) as { url: string }).url;
  fs.mkdirSync(o.workDir, { recursive: true });
  const configPath = path.join(o.workDir, 'weir-bedrock-config.yaml');
  fs.writeFileSync(
    configPath,
    `# written by npm run bench (scenario 9)
model_list:
  - model_name: ${CHAT_MODEL}
    litellm_params: { model: openai/${CHAT_MODEL}, api_base: ${o.mockUrl}/v1, api_key: sk-bench }
  - model_name: ${BEDROCK_MODEL}
    litellm_params: { model: "bedrock/${MODEL_ID}", aws_region_name: ${REGION}, aws_bedrock_runtime_endpoint: "${fakeUrl}", aws_access_key_id: ${KEYS.accessKeyId}, aws_secret_access_key: ${KEYS.secretAccessKey} }
general_settings: { master_key: ${MASTER_KEY} }
`,
  );
  const weir = await startGateway({ configPath, workers: o.workers, cpus: o.cpus, name: 'weir (bedrock)', env: { AWS_EC2_METADATA_DISABLED: 'true' } });

  const client = claudeCodeBody({ stream: true }) as Record<string, unknown>;
  const toBedrock = messagesSpec({ ...client, model: BEDROCK_MODEL });
  const upstreamBody = invokeBody(toBedrock.body!, undefined);
  const invokePath = `/model/${encodeURIComponent(MODEL_ID)}/invoke-with-response-stream`;
  const signer = new AwsSigner(new CachedCredentials(() => Promise.resolve(KEYS)), REGION, fakeUrl);
  const signed = await signer.sign('POST', invokePath, ['content-type', 'application/json'], upstreamBody);
  const direct: RequestSpec = { path: invokePath, method: 'POST', headers: ['content-type', 'application/json', ...signed], body: upstreamBody };
  const chat = translatedRequests().upstreamChat;
  const chatBody = chatSpec({ ...(JSON.parse(chat.body!.toString()) as object), stream: true });

  const targets: Target[] = [
    makeTarget('direct', o.mockUrl, null),
    makeTarget('weir', weir.url, weir.child.proc.pid ?? null),
    makeTarget('bedrock-direct', fakeUrl, null),
    makeTarget('weir-bedrock', weir.url, weir.child.proc.pid ?? null),
  ];
  const per = (t: Target) => {
    switch (t.kind) {
      case 'bedrock-direct': return { spec: direct, sse: false };
      case 'weir-bedrock': return { spec: toBedrock, check: checkBedrockSse };
      default: return { spec: chatBody, check: (b: string) => checkOpenAIStream(b, o.plan.deltas) };
    }
  };
  const latency = await interleavedLatency(targets, chatBody, { ...o.plan.translated, repeats: o.plan.repeats, sse: true, per }, o.progress, '9 bedrock');
  const by = (k: Target['kind']) => latency.find((r) => r.target === k);
  const openai = perRepeatDiff(by('weir')?.ttfb?.abs.p50, by('direct')?.ttfb?.abs.p50);
  const bedrock = perRepeatDiff(by('weir-bedrock')?.ttfb?.abs.p50, by('bedrock-direct')?.ttfb?.abs.p50);
  const diff = perRepeatDiff(bedrock, openai);
  const sha256Us = medianUs(() => createHash('sha256').update(upstreamBody).digest(), 2000);
  const sdk = await sdkSha256Us(upstreamBody, 2000);
  const summary: BedrockSummary = {
    bodyKB: upstreamBody.length / 1024,
    openaiAddedTtfbP50: openai,
    bedrockAddedTtfbP50: bedrock,
    diffTtfbP50: diff,
    sha256Us,
    sdkSha256Us: sdk,
    met: diff.median <= 0.1,
  };
  const f = (s: Spread) => `${s.median >= 0 ? '+' : ''}${s.median.toFixed(3)} [${s.min.toFixed(3)}…${s.max.toFixed(3)}]`;
  const notes = [
    `body: Claude Code's ${(toBedrock.body!.length / 1024).toFixed(0)} KB streaming /v1/messages to ${BEDROCK_MODEL} (InvokeModel body ${summary.bodyKB.toFixed(0)} KB); the OpenAI path sends its chat form (${(chatBody.body!.length / 1024).toFixed(0)} KB) to ${CHAT_MODEL}`,
    `added TTFB p50, ms (median of repeats [min…max]): OpenAI-dialect pass-through ${f(openai)}; Claude on Bedrock ${f(bedrock)}; Bedrock − OpenAI ${f(diff)} (target ≤ +0.100: ${summary.met ? 'met' : 'not met'})`,
    `SHA-256 of the ${summary.bodyKB.toFixed(0)} KB InvokeModel body (SigV4's payload hash), median of 2,000: ${sha256Us.toFixed(1)} µs with node:crypto, ${sdk.toFixed(1)} µs through the SDK's Hash (what the signer runs)`,
  ];
  return { latency, summary, notes };
}
