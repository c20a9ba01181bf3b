// What features of a run add to its agent before it starts (the memory server, the vault's proxy):
// built on the control thread once the sandbox and the key exist, used by the executor as it is.
import type { HarnessInput } from './types';

export interface AgentSetup {
  /** The memory MCP server for the harness (see memory/mcp-config.ts). */
  mcp?: HarnessInput['mcp'];
  /** Variables added to the agent's environment (over the harness's). */
  env?: Record<string, string>;
  /** Rewrites what the agent printed before it is kept (events, transcript): masks real secrets. */
  scrub?(text: string): string;
  /** The run has ended: what was set up for it goes. Idempotent. */
  release?(): void;
}
