// Shared by the agents-*.test.ts files: what a scripted tool loop must look like at the upstream,
// whichever agent drove it and whichever dialect the deployment speaks.
import assert from 'node:assert/strict';
import type { ScriptedApi } from '../support/mock-scripted';
import type { RecordedRequest } from '../support/mock-upstream';
import { offersTool, toolCall, toolResult, type ToolLoop } from '../support/tool-loop';

export interface LoopAtUpstream {
  api: ScriptedApi;
  /** Everything the upstream was asked. */
  requests: RecordedRequest[];
  loop: ToolLoop;
  /** The route every turn must arrive on: `/v1/chat/completions`, `/v1/messages`, `/v1/responses`. */
  path: string;
  /** The model the upstream must be asked for. */
  model: string | RegExp;
  /** The tool the loop called, and the input the agent must replay for it. */
  tool: string;
  input: Record<string, unknown>;
}

/**
 * Exactly two calls reached the upstream, streamed, in its dialect: the first offering the tool and
 * carrying no result, the second replaying the loop's call and carrying the command's output (the
 * marker) as that call's result. Returns the two bodies for the test's own checks.
 */
export function assertLoopAtUpstream(o: LoopAtUpstream): [any, any] {
  assert.deepEqual(o.requests.map((r) => `${r.method} ${r.path}`), [`POST ${o.path}`, `POST ${o.path}`], 'the tool turn and the final turn, nothing else');
  const id = o.loop.callId(o.api);
  for (const [i, r] of o.requests.entries()) {
    assert.equal(r.json.stream, true, `call ${i} streams`);
    if (typeof o.model === 'string') assert.equal(r.json.model, o.model, `call ${i}: model`);
    else assert.match(r.json.model, o.model, `call ${i}: model`);
    assert.ok(offersTool(o.api, r.json, o.tool), `call ${i} offers ${o.tool} as a ${o.api} tool`);
  }
  const [first, second] = o.requests.map((r) => r.json);
  assert.equal(toolResult(o.api, first, id), undefined, 'the first turn carries no result');
  assert.deepEqual(toolCall(o.api, second, id), { name: o.tool, input: o.input }, 'the second turn replays the call');
  const result = toolResult(o.api, second, id);
  assert.ok(result?.includes(o.loop.marker), `the second turn carries the command's output as the call's result: ${JSON.stringify(result)}`);
  return [first, second];
}
