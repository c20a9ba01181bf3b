// The harness for each agent kind a profile may name.
import type { AgentKind, Harness } from '../types';
import { claudeCode } from './claude-code';
import { codex } from './codex';
import { command } from './command';

const HARNESSES: Record<AgentKind, Harness> = { 'claude-code': claudeCode, codex, command };

export function harnessFor(kind: AgentKind): Harness {
  const h = HARNESSES[kind];
  if (!h) throw new Error(`no harness for agent ${JSON.stringify(kind)}`);
  return h;
}
