// The LiteLLM config.yaml the bench serves: one OpenAI-dialect and one Anthropic-dialect model,
// both pointed at the bench's mock upstream. Weir and a LiteLLM comparator get the same file.
import fs from 'node:fs';
import path from 'node:path';

export function benchModelList(mockUrl: string, masterKey: string): string {
  return `# written by npm run bench: the bench's model list, pointed at the bench's mock upstream
model_list:
  - model_name: bench-gpt
    litellm_params: { model: openai/bench-gpt, api_base: ${mockUrl}/v1, api_key: sk-bench }
  - model_name: bench-claude
    litellm_params: { model: anthropic/bench-claude, api_base: ${mockUrl}, api_key: sk-bench }
general_settings: { master_key: ${masterKey} }
`;
}

/** Writes the config into `dir` and returns its path. */
export function writeBenchConfig(dir: string, name: string, mockUrl: string, masterKey: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.resolve(dir, name);
  fs.writeFileSync(p, benchModelList(mockUrl, masterKey));
  return p;
}
