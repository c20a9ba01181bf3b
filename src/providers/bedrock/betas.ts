// Which anthropic-beta values Bedrock's InvokeModel takes for Claude, and under which name. Bedrock
// answers 400 to a beta it does not know, so a value not listed here is left out (and named in
// x-weir-dropped) rather than sent. The table follows LiteLLM's `bedrock` column of
// anthropic_beta_headers_config.json, so a config moved from LiteLLM behaves the same.
const BEDROCK_BETAS: Readonly<Record<string, string | null>> = {
  'advanced-tool-use-2025-11-20': 'tool-search-tool-2025-10-19',
  'compact-2026-01-12': 'compact-2026-01-12',
  'computer-use-2025-01-24': 'computer-use-2025-01-24',
  'computer-use-2025-11-24': 'computer-use-2025-11-24',
  'context-1m-2025-08-07': 'context-1m-2025-08-07',
  'context-management-2025-06-27': 'context-management-2025-06-27',
  'dangerous-tool-use-2026-09-03': 'dangerous-tool-use-2026-09-03',
  'effort-2025-11-24': 'effort-2025-11-24',
  'fine-grained-tool-streaming-2025-05-14': 'fine-grained-tool-streaming-2025-05-14',
  'thinking-binding-controls-2026-08-01': 'thinking-binding-controls-2026-08-01',
  'tool-search-tool-2025-10-19': 'tool-search-tool-2025-10-19',
  'mid-conversation-output-config-2026-07-01': 'mid-conversation-output-config-2026-07-01',
  'thinking-display-updates-2026-08-18': 'thinking-display-updates-2026-08-18',
  'mid-conversation-tool-changes-2026-07-01': 'mid-conversation-tool-changes-2026-07-01',
};

/** Bedrock's name for a beta, or null when Bedrock does not take it. */
export function bedrockBeta(beta: string): string | null {
  return Object.hasOwn(BEDROCK_BETAS, beta) ? BEDROCK_BETAS[beta]! : null;
}
