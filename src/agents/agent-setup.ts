// What features of a run add to its agent before it starts (the memory server, the vault's proxy):
// built on the control thread once the sandbox and the key exist, used by the executor as it is.
// Their files are not written by the features: the executor writes them with the prompt, in one
// call to the sandbox (a cloud provider's round trip per file would each lengthen the start).
import type { HarnessInput, SandboxFile } from './types';

export interface AgentSetup {
  /** The memory MCP server for the harness (see memory/mcp-config.ts). */
  mcp?: HarnessInput['mcp'];
  /** Files the agent needs in the sandbox (absolute paths inside it), written with the prompt. */
  files?: SandboxFile[];
  /** Variables added to the agent's environment (over the harness's). */
  env?: Record<string, string>;
  /** Rewrites what the agent printed before it is kept (events, transcript): masks real secrets. */
  scrub?(text: string): string;
  /** The run has ended: what was set up for it goes. Idempotent. */
  release?(): void;
}

/** The run cannot start as its profile says (an unknown secret, a vault key that changed): not retried. */
export class SetupError extends Error {}

/** Several features' setups as one (later ones' variables win). */
export function mergeSetups(parts: AgentSetup[]): AgentSetup {
  const scrubs = parts.map((p) => p.scrub).filter((f): f is (t: string) => string => !!f);
  const out: AgentSetup = {};
  for (const p of parts) {
    if (p.mcp) out.mcp = p.mcp;
    if (p.env) out.env = { ...out.env, ...p.env };
    if (p.files?.length) out.files = [...(out.files ?? []), ...p.files];
  }
  if (scrubs.length) out.scrub = scrubs.length === 1 ? scrubs[0] : (t) => scrubs.reduce((acc, f) => f(acc), t);
  const releases = parts.map((p) => p.release).filter((f): f is () => void => !!f);
  if (releases.length) out.release = () => releases.forEach((r) => r());
  return out;
}
