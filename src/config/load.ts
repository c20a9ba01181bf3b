// Loads a LiteLLM proxy config.yaml: YAML → `include` merging → `environment_variables` →
// `os.environ/VAR` substitution → schema validation. Synchronous: it runs once at startup.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument, type Tags } from 'yaml';
import { ConfigError, describeFound, formatPath, type ConfigIssue } from './errors';
import { indentFlowCollections } from './flow-indent';
import { validateConfig } from './schema';
import type { Deployment, DeploymentEnv, LiteLLMConfig, UnsetVariable } from './types';

export { ConfigError } from './errors';

type Doc = Record<string, unknown>;

const ENV_PREFIX = 'os.environ/';

export interface ParseOptions {
  /** Directory that relative `include` paths are resolved against. */
  baseDir: string;
  /** Environment used for `os.environ/VAR`; never modified. */
  env: NodeJS.ProcessEnv;
  /** Shown in error messages; also lets a file that includes itself be caught as a cycle. */
  fileName?: string;
}

/** The main file held nothing but blanks when read, and the caller asked for a refusal then. */
export class EmptyConfigError extends Error {}

/**
 * `refuseEmpty`: an empty main file throws EmptyConfigError instead of being a config with no
 * models (a file watcher's read can land between a save's truncate and its write).
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, opts: { refuseEmpty?: boolean } = {}): LiteLLMConfig {
  const abs = path.resolve(file);
  const text = readText(abs);
  if (opts.refuseEmpty && text.trim() === '') throw new EmptyConfigError(`${abs} is empty`);
  return parseConfigText(text, { baseDir: path.dirname(abs), env, fileName: abs });
}

export function parseConfigText(text: string, opts: ParseOptions): LiteLLMConfig {
  const fileName = opts.fileName ?? '<config>';
  const main = parseYaml(text, fileName);
  const stack = opts.fileName ? [realpathOr(path.resolve(opts.baseDir, opts.fileName))] : [];
  const { doc, origins } = expandIncludes(main, opts.baseDir, opts.baseDir, stack);

  // Entries that came from an included file say so in errors: their index is in the merged list.
  const originOf = (segs: readonly PropertyKey[]): string => {
    const from = segs[0] === 'model_list' && typeof segs[1] === 'number' ? origins[segs[1]] : undefined;
    return from ? ` (in ${from})` : '';
  };

  const ignored: UnsetVariable[] = [];
  const { vars, env } = applyEnvironmentVariables(doc.environment_variables, opts.env, ignored);
  const envRefs = new Map<string, string>();
  const missing: ConfigIssue[] = [];
  const deploymentEnv: Record<number, DeploymentEnv> = {};
  const unset: Unset = { missing, deploymentEnv, ignored };
  const resolved = Object.fromEntries(
    Object.entries(doc).map(([k, v]) => [k, k === 'environment_variables' ? v : resolveEnv(v, [k], env, envRefs, unset, originOf)]),
  );
  if (missing.length > 0) throw new ConfigError(missing);
  resolved.environment_variables = vars;
  const cfg = validateConfig(resolved, { envRefs, originOf });
  if (ignored.length) cfg.unset_env = ignored;
  cfg.model_list.forEach((_, i) => {
    const name = envRefs.get(formatPath(['model_list', i, 'litellm_params', 'api_base']));
    if (name) (deploymentEnv[i] ??= {}).apiBaseVar = name;
  });
  if (Object.keys(deploymentEnv).length) cfg.deployment_env = deploymentEnv;
  return cfg;
}

/**
 * One deployment that did not come from the file (a LiteLLM_ProxyModelTable row), loaded as a
 * model_list entry is: `os.environ/VAR` resolved (an unset one makes it unavailable, its `model`
 * unset refuses it) and validated. Throws ConfigError naming what is wrong (values not shown).
 */
export function loadDeployment(raw: unknown, env: NodeJS.ProcessEnv): { deployment: Deployment; env?: DeploymentEnv } {
  const envRefs = new Map<string, string>();
  const missing: ConfigIssue[] = [];
  const deploymentEnv: Record<number, DeploymentEnv> = {};
  const resolved = resolveEnv(raw, ['model_list', 0], env, envRefs, { missing, deploymentEnv, ignored: [] }, () => '');
  if (missing.length > 0) throw new ConfigError(missing);
  const deployment = validateConfig({ model_list: [resolved] }, { envRefs }).model_list[0]!;
  const name = envRefs.get(formatPath(['model_list', 0, 'litellm_params', 'api_base']));
  if (name) (deploymentEnv[0] ??= {}).apiBaseVar = name;
  return deploymentEnv[0] ? { deployment, env: deploymentEnv[0] } : { deployment };
}

/**
 * An unset variable under a deployment (its api_key, api_base, …) does not stop the start: as in
 * LiteLLM, the proxy starts and that deployment cannot be called; the start line says why. Its
 * `model` is the exception: without it the deployment is not even known.
 */
function deploymentOf(at: readonly PropertyKey[]): number | null {
  if (at[0] !== 'model_list' || typeof at[1] !== 'number') return null;
  if (at[2] === 'litellm_params' && at[3] === 'model' && at.length === 4) return null;
  if (at[2] === 'model_name' && at.length === 3) return null;
  return at[1];
}

/**
 * Where an unset `os.environ/` variable stops the start: what the whole proxy needs (its master
 * key, its database) and Weir's own agent_settings (a webhook secret left unset must not turn its
 * check off). Anywhere else LiteLLM's get_secret gives None and the proxy starts without that
 * value (a guardrail's key, a callback's host, a cache password…): so does Weir, and says so.
 */
function stopsTheStart(at: readonly PropertyKey[]): boolean {
  if (at[0] === 'general_settings') return at.length === 2 && (at[1] === 'master_key' || at[1] === 'database_url');
  if (at[0] === 'model_list') return deploymentOf(at) === null;
  return at[0] === 'agent_settings';
}

/** One-line description of any error thrown while loading a config. */
export function describeConfigError(e: unknown): string {
  const msg = e instanceof ConfigError ? e.message : e instanceof Error ? `config: ${e.message}` : `config: ${String(e)}`;
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}

// ---- YAML ---------------------------------------------------------------------------------------

// LiteLLM reads configs with PyYAML (YAML 1.1): `yes`/`on` are booleans and `<<: *anchor` merge
// keys work. Two deviations from yaml's own 1.1 schema keep us aligned with PyYAML or saner:
// `y`/`n` stay strings (PyYAML does not treat them as booleans), and timestamps stay strings so an
// unquoted Azure `api_version: 2024-02-01` is the string LiteLLM ends up sending.
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
function pyyamlTags(tags: Tags): Tags {
  // Entries may also be tag names (strings); only resolved tag objects need adjusting.
  return tags
    .filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp')
    .map((t) =>
      typeof t !== 'string' && t.tag === 'tag:yaml.org,2002:bool'
        ? { ...t, test: t.identify?.(true) ? PY_TRUE : PY_FALSE }
        : t,
    ) as Tags;
}

function parseYaml(text: string, fileName: string): Doc {
  // uniqueKeys: false — PyYAML silently keeps the last of duplicate keys, so configs rely on it.
  const options = { version: '1.1', customTags: pyyamlTags, uniqueKeys: false } as const;
  let doc = parseDocument(text, options);
  if (doc.errors.length) {
    // Flow collections indented the way PyYAML accepts (flow-indent.ts): read as PyYAML reads them.
    const reindented = indentFlowCollections(text);
    const retry = reindented === null ? null : parseDocument(reindented, options);
    if (retry && retry.errors.length === 0) doc = retry;
  }
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const where = pos ? `${fileName}:${pos.line}:${pos.col}` : fileName;
    // yaml's message is "<reason> at line L, column C:\n<excerpt>"; the position is already in `where`.
    const reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError('', `${where}: YAML syntax error${pos ? ` on line ${pos.line}` : ''}: ${reason}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {}; // empty file
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('', `${fileName}: expected a mapping at the top level, ${describeFound(value)}`);
  }
  return value as Doc;
}

function readText(file: string, includedFrom?: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError('', `cannot read ${file} (${code})${includedFrom ? `, included from ${includedFrom}` : ''}`);
  }
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

// ---- include ------------------------------------------------------------------------------------

interface Expanded {
  doc: Doc;
  /** Per merged `model_list` entry: the file it came from, or undefined for the main file. */
  origins: (string | undefined)[];
}

/**
 * Merges the files listed in `doc.include` (recursively) into `doc`. Paths are relative to the
 * including file. Lists present on both sides are concatenated (the including file's entries
 * first); for mappings and scalars the including file wins, mappings being merged one level deep.
 * `dir` is the directory of the file `doc` came from; `stack` holds the real paths of the files
 * being expanded, to catch cycles; `label` is the file's path relative to `rootDir` (the main
 * file's directory), undefined for the main file.
 */
function expandIncludes(doc: Doc, dir: string, rootDir: string, stack: string[], label?: string): Expanded {
  const { include, ...rest } = doc;
  let acc: Expanded = { doc: rest, origins: Array.isArray(rest.model_list) ? rest.model_list.map(() => label) : [] };
  if (include === undefined || include === null) return acc;
  const where = label === undefined ? '' : ` in ${label}`;
  if (!Array.isArray(include) && typeof include !== 'string') {
    throw new ConfigError('include', `expected a list of file paths, ${describeFound(include)}${where}`);
  }
  const list: unknown[] = Array.isArray(include) ? include : [include]; // LiteLLM docs allow one path
  list.forEach((item, i) => {
    const at = Array.isArray(include) ? formatPath(['include', i]) : 'include';
    if (typeof item !== 'string' || item === '') {
      throw new ConfigError(at, `expected a file path, ${describeFound(item)}${where}`);
    }
    const abs = path.resolve(dir, item);
    if (!fs.existsSync(abs)) {
      throw new ConfigError(at, `included file ${JSON.stringify(item)} not found (looked for ${abs})${where}`);
    }
    const real = realpathOr(abs);
    const rel = path.relative(rootDir, abs);
    if (stack.includes(real)) {
      const chain = [...stack, real].map((p) => path.relative(rootDir, p));
      throw new ConfigError(at, `include cycle: ${chain.join(' -> ')}${where}`);
    }
    const child = expandIncludes(parseYaml(readText(abs, label), rel), path.dirname(abs), rootDir, [...stack, real], rel);
    acc = mergeInto(acc, child);
  });
  return acc;
}

function isMapping(v: unknown): v is Doc {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mergeInto(main: Expanded, inc: Expanded): Expanded {
  const doc: Doc = { ...main.doc };
  let origins = main.origins;
  for (const [key, value] of Object.entries(inc.doc)) {
    const mine = doc[key];
    if (mine === undefined || mine === null) {
      doc[key] = value;
      if (key === 'model_list') origins = inc.origins;
    } else if (Array.isArray(mine) && Array.isArray(value)) {
      doc[key] = [...mine, ...value];
      if (key === 'model_list') origins = [...origins, ...inc.origins];
    } else if (isMapping(mine) && isMapping(value)) {
      doc[key] = { ...value, ...mine };
    } // else: the including file's value wins as is
  }
  return { doc, origins };
}

// ---- environment ----------------------------------------------------------------------------------

/**
 * Coerces `environment_variables` to strings, resolving `os.environ/X` values against the
 * caller's env (not against each other), and returns the env to resolve the rest of the file with.
 */
function applyEnvironmentVariables(section: unknown, base: NodeJS.ProcessEnv, ignored: UnsetVariable[]) {
  const vars: Record<string, string> = {};
  if (section === undefined || section === null) return { vars, env: base };
  if (!isMapping(section)) {
    throw new ConfigError('environment_variables', `expected a mapping of variable names to values, ${describeFound(section)}`);
  }
  const missing: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(section)) {
    const at = formatPath(['environment_variables', key]);
    if (typeof value === 'string') {
      // An unset reference sets nothing (LiteLLM's get_secret gives None): the start goes on, and says so.
      const r = resolveEnv(value, ['environment_variables', key], base, new Map(), { missing, ignored }, () => '');
      if (typeof r === 'string') vars[key] = r;
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      vars[key] = String(value);
    } else {
      missing.push({ path: at, detail: `expected a string, number or boolean, ${describeFound(value)}` });
    }
  }
  if (missing.length > 0) throw new ConfigError(missing);
  return { vars, env: { ...base, ...vars } };
}

/** Where the unset variables go: stopping the start, unavailable deployments, or a notice. */
interface Unset {
  missing: ConfigIssue[];
  deploymentEnv?: Record<number, DeploymentEnv>;
  ignored: UnsetVariable[];
}

/**
 * Returns a copy of `value` with every string `os.environ/VAR` replaced by env[VAR]. Unset
 * variables go where `unset` says (see stopsTheStart); `envRefs` records which paths were substituted.
 */
function resolveEnv(
  value: unknown,
  at: PropertyKey[],
  env: NodeJS.ProcessEnv,
  envRefs: Map<string, string>,
  unset: Unset,
  originOf: (segs: readonly PropertyKey[]) => string,
): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(ENV_PREFIX)) return value;
    const name = value.slice(ENV_PREFIX.length);
    const found = env[name];
    const deployment = unset.deploymentEnv && name !== '' ? deploymentOf(at) : null;
    if (found === undefined && deployment !== null) {
      ((unset.deploymentEnv![deployment] ??= {}).unset ??= []).push({ path: formatPath(at.slice(2)), name });
      return undefined;
    }
    if (found === undefined && name !== '' && !stopsTheStart(at)) {
      unset.ignored.push({ path: formatPath(at), name });
      return undefined;
    }
    if (name === '' || found === undefined) {
      const why = name === '' ? 'has no variable name after os.environ/' : `environment variable ${name} is not set`;
      unset.missing.push({ path: formatPath(at), detail: `${why} (referenced as ${value})${originOf(at)}` });
      return value;
    }
    envRefs.set(formatPath(at), name);
    return found;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, [...at, i], env, envRefs, unset, originOf));
  if (isMapping(value)) {
    // fromEntries defines own properties, so a `__proto__` key cannot touch the prototype.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveEnv(v, [...at, k], env, envRefs, unset, originOf)]),
    );
  }
  return value;
}
