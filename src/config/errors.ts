// Errors raised while loading a LiteLLM config.yaml. Every message is one line, starts with
// `config:`, names the YAML path of the offending value and says what was expected and found.

export interface ConfigIssue {
  /** YAML path such as `model_list[2].litellm_params.timeout`, or '' for file-level problems. */
  path: string;
  /** What is wrong, e.g. `expected a string, got number (42)`. */
  detail: string;
}

/** How many issues a message spells out; the rest are only counted. */
const MAX_LISTED = 5;

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Path of the first issue ('' when the problem is not tied to a value). */
  readonly path: string;
  /** All issues found (at least one); `message` lists the first few. */
  readonly issues: readonly ConfigIssue[];

  constructor(path: string, detail: string);
  constructor(issues: readonly ConfigIssue[]);
  constructor(pathOrIssues: string | readonly ConfigIssue[], detail = '') {
    const issues = typeof pathOrIssues === 'string' ? [{ path: pathOrIssues, detail }] : pathOrIssues;
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    const listed = issues.slice(0, MAX_LISTED).map(formatIssue).join('; ');
    const more = issues.length - MAX_LISTED;
    super(`config: ${listed}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : ''}`);
    this.issues = issues;
    this.path = issues[0]!.path;
  }
}

function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.detail}` : issue.detail;
}

/** `['model_list', 2, 'litellm_params', 'timeout']` → `model_list[2].litellm_params.timeout`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      // Header names and similar keys may contain characters that would make the path ambiguous.
      if (/^[A-Za-z_][\w-]*$/.test(key)) out += out ? `.${key}` : key;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** Describes a found value for an error message: `got number (42)`, `but it is missing`, … */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'but it is missing';
  if (value === null) return 'got null (empty value)';
  if (Array.isArray(value)) return 'got a list';
  switch (typeof value) {
    case 'string':
      return `got string (${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)})`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `got ${typeof value} (${String(value)})`;
    case 'object':
      return 'got a mapping';
    default:
      return `got ${typeof value}`;
  }
}
