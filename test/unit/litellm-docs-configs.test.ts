// LiteLLM's documentation as a regression corpus: every proxy config block of its docs, loaded the
// way Weir's start loads a config (YAML, include, environment_variables, os.environ/, schema, then
// the snapshot with every deployment resolved), in-process. Issue 12: "LiteLLM's docs configs start
// unless LiteLLM itself would refuse them", and "every prefix still not served is named with the reason".
//
// Asserts, for each block: it starts, or it is one LiteLLM refuses too (REFUSED, each with its
// reason: never skipped silently); and every deployment that cannot be called carries a reason that
// names its provider, its variable or its api_base. The counts (blocks, started, refused, deployments,
// served, unavailable by reason, prefixes not served) are printed as diagnostics.
//
// The environment is empty but for what the whole proxy needs: a master_key or database_url written
// as os.environ/VAR gets a value (Weir refuses to start without them, by design). Every other
// variable is unset, as for a new user who pasted the block.
//
// The corpus is LiteLLM's documentation text (MIT, Copyright (c) Berri AI). It is not committed:
// make it with `node scripts/extract-litellm-docs-configs.mjs <git dir of BerriAI/litellm-docs>`,
// which writes test/fixtures/litellm-docs-configs.json (git-ignored), or point
// WEIR_LITELLM_DOCS_CORPUS at a copy. Without it this test says so and is skipped. The sources below
// (`path#index`: the index-th yaml block of the file) are of BerriAI/litellm-docs at ef86ded (2026-05-02).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describeConfigError, parseConfigText } from '../../src/config/load';
import { buildSnapshot } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import type { Target } from '../../src/gateway/snapshot';

const CORPUS = process.env.WEIR_LITELLM_DOCS_CORPUS ?? path.resolve(__dirname, '../../../test/fixtures/litellm-docs-configs.json');

interface Corpus {
  header: Record<string, unknown>;
  blocks: { source: string; yaml: string }[];
}

/**
 * The blocks LiteLLM refuses as well, and why: YAML that PyYAML (LiteLLM's reader) does not
 * parse, and model lists its proxy cannot read (it indexes `model["litellm_params"]` of each entry
 * and its Router needs a model_name). Weir must refuse each of these, and start every other block.
 */
const REFUSED: Readonly<Record<string, string>> = {
  "docs/adding_provider/simple_guardrail_tutorial.md#0": "PyYAML refuses it: mapping values are not allowed here (line 9)",
  "docs/observability/azure_sentinel.md#0": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/observability/datadog.md#0": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/observability/datadog.md#1": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/observability/datadog.md#2": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/observability/datadog.md#4": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/old_guardrails.md#0": "PyYAML refuses it: mapping values are not allowed here (line 19)",
  "docs/old_guardrails.md#2": "PyYAML refuses it: mapping values are not allowed here (line 15)",
  "docs/providers/anthropic.md#7": "PyYAML refuses it: while parsing a block collection (line 2)",
  "docs/providers/anthropic.md#12": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/providers/azure/azure_speech.md#0": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/providers/bedrock.md#21": "PyYAML refuses it: while parsing a block mapping (line 4)",
  "docs/providers/google_ai_studio/image_gen.md#0": "PyYAML refuses it: while parsing a block collection (line 2)",
  "docs/providers/openai_compatible.md#1": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/providers/recraft.md#0": "PyYAML refuses it: while parsing a block collection (line 2)",
  "docs/providers/recraft.md#1": "PyYAML refuses it: while parsing a block collection (line 2)",
  "docs/providers/vertex.md#1": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/providers/vertex.md#8": "PyYAML refuses it: while scanning a quoted scalar (line 7)",
  "docs/providers/xinference.md#0": "PyYAML refuses it: while parsing a block collection (line 2)",
  "docs/proxy/clientside_auth.md#0": "PyYAML refuses it: while scanning a double-quoted scalar (line 7)",
  "docs/proxy/config_settings.md#0": "PyYAML refuses it: while parsing a block mapping (line 151)",
  "docs/proxy/config_settings.md#1": "PyYAML refuses it: while parsing a block mapping (line 2)",
  "docs/proxy/docker_quick_start.md#6": "PyYAML refuses it: while parsing a block mapping (line 4)",
  "docs/proxy/guardrails/custom_code_guardrail.md#0": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/logging.md#0": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/logging.md#1": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/logging.md#4": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/logging.md#11": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/logging.md#29": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/logging.md#30": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/prod.md#0": "PyYAML refuses it: while scanning a simple key (line 14)",
  "docs/proxy/prometheus.md#7": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/prometheus.md#10": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/reliability.md#1": "PyYAML refuses it: while parsing a block mapping (line 2)",
  "docs/proxy/reliability.md#2": "PyYAML refuses it: while parsing a block mapping (line 2)",
  "docs/proxy/reliability.md#8": "PyYAML refuses it: mapping values are not allowed here (line 8)",
  "docs/proxy/reliability.md#9": "PyYAML refuses it: mapping values are not allowed here (line 5)",
  "docs/proxy/reliability.md#10": "PyYAML refuses it: mapping values are not allowed here (line 5)",
  "docs/proxy/team_logging.md#1": "PyYAML refuses it: mapping values are not allowed here (line 3)",
  "docs/proxy/token_auth.md#1": "PyYAML refuses it: while scanning a double-quoted scalar (line 5)",
  "docs/proxy/token_auth.md#3": "PyYAML refuses it: while scanning a double-quoted scalar (line 6)",
  "docs/proxy/token_auth.md#13": "PyYAML refuses it: mapping values are not allowed here (line 6)",
  "docs/routing.md#1": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/routing.md#2": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/routing.md#3": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/routing.md#4": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/routing.md#5": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/routing.md#7": "PyYAML refuses it: a tab in the indentation (line 3)",
  "docs/routing.md#8": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/routing.md#10": "PyYAML refuses it: a tab in the indentation (line 2)",
  "docs/scheduler.md#0": "PyYAML refuses it: mapping values are not allowed here (line 13)",
  "docs/secret_managers/azure_key_vault.md#0": "PyYAML refuses it: while parsing a block mapping (line 2)",
  "docs/providers/vertex.md#7": "model_list is a mapping (`-model_name:` lacks the space after `-`): LiteLLM iterates its keys and fails on the first",
  "docs/proxy/alerting.md#3": "model_list is a mapping, not a list: LiteLLM iterates its keys and fails on the first",
  "docs/proxy/alerting.md#4": "model_list is a mapping, not a list: LiteLLM iterates its keys and fails on the first",
  "docs/proxy/jwt_auth_arch.md#0": "its deployments have `model:` where model_name belongs: LiteLLM's Router refuses a deployment without model_name",
  "docs/proxy/jwt_auth_arch.md#1": "its deployments have `model:` where model_name belongs: LiteLLM's Router refuses a deployment without model_name",
  "docs/proxy/reliability.md#7": "litellm_params is empty (its keys are indented as its siblings): LiteLLM reads litellm_params of None and fails",
  "docs/proxy/config_management.md#0": "it includes model_config.yaml, which is not there: LiteLLM refuses a missing include too",
};

/** What the whole proxy needs from os.environ/ (Weir refuses to start without them). */
const PROXY_VARS = /^[ \t]*(master_key|database_url)[ \t]*:[ \t]*["']?os\.environ\/([A-Za-z0-9_]+)/gm;

function proxyEnv(yaml: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const m of yaml.matchAll(PROXY_VARS)) env[m[2]!] = m[1] === 'database_url' ? 'postgresql://docs:docs@127.0.0.1:5432/litellm' : 'sk-docs-master-key';
  return env;
}

/** A reason a user can act on names the provider, a variable, the api_base or the litellm_params field to set. */
const NAMES_WHAT = /provider \S+|environment variable [A-Za-z0-9_-]+|set [A-Z][A-Z0-9_]+|api_base|azure deployments|litellm_params\.[a-z_]+|\b(?:vertex_credentials|aws_[a-z_]+)\b/;

/** The reason reduced to its kind, for the counts: variable names and values taken out. */
function reasonKind(reason: string): string {
  const m = /^provider (\S+)/.exec(reason) ?? /^(cannot tell the provider)/.exec(reason);
  if (m) return reason.startsWith('cannot') ? 'provider cannot be told from the name' : `provider ${m[1]} not served`;
  if (/environment variable/.test(reason) && !/^litellm_params\.api_base is/.test(reason)) return 'an os.environ/ variable of the deployment is not set';
  if (/^no API key/.test(reason)) return "no API key (the provider's variable is not set)";
  if (/placeholder/.test(reason)) return 'api_base is a placeholder';
  if (/not an http/.test(reason)) return 'api_base is not a URL';
  return reason;
}

const corpus: Corpus | null = fs.existsSync(CORPUS) ? (JSON.parse(fs.readFileSync(CORPUS, 'utf8')) as Corpus) : null;

test("LiteLLM's docs configs start, unless LiteLLM refuses them too; every deployment that cannot be called says why", (t) => {
  if (!corpus) {
    t.skip(`no corpus at ${CORPUS}: make it with scripts/extract-litellm-docs-configs.mjs (see this file's header)`);
    return;
  }
  const problems: string[] = [];
  const sources = new Set(corpus.blocks.map((b) => b.source));
  for (const s of Object.keys(REFUSED)) if (!sources.has(s)) problems.push(`${s}: listed in REFUSED but not in the corpus (re-extracted? check the list)`);

  let started = 0;
  let deployments = 0;
  let callable = 0;
  const refusedBy = new Map<string, string[]>();
  const unavailable = new Map<string, number>();
  const notServed = new Map<string, number>();
  for (const { source, yaml } of corpus.blocks) {
    const env = proxyEnv(yaml);
    let targets: Target[];
    try {
      const cfg = parseConfigText(yaml, { baseDir: path.join(__dirname, 'no-such-docs-dir'), env });
      const s = buildSnapshot(cfg, { version: 1, detailedDebug: false, env, slots: new SlotTable(4096) });
      // One target per model_list entry: aliases share a group's targets, a wildcard counts as its first variant.
      targets = [...new Set([...s.groups.values()].flatMap((g) => g.targets))];
      for (const w of s.wildcards) for (const d of w.deployments) targets.push(Object.values(d.variants)[0]!);
    } catch (e) {
      const why = describeConfigError(e);
      if (REFUSED[source] === undefined) problems.push(`${source}: refused, but LiteLLM starts it: ${why}`);
      else {
        const kind = REFUSED[source]!.replace(/ \(line \d+\)$/, '');
        refusedBy.set(kind, [...(refusedBy.get(kind) ?? []), source]);
      }
      continue;
    }
    started++;
    if (REFUSED[source] !== undefined) problems.push(`${source}: starts now; take it out of REFUSED (${REFUSED[source]})`);
    for (const target of targets) {
      deployments++;
      if (target.unavailable === null) {
        callable++;
        continue;
      }
      if (!NAMES_WHAT.test(target.unavailable)) problems.push(`${source}: ${target.group} is unavailable with a reason that names nothing to fix: ${target.unavailable}`);
      const kind = reasonKind(target.unavailable);
      unavailable.set(kind, (unavailable.get(kind) ?? 0) + 1);
      if (kind.startsWith('provider ')) notServed.set(target.provider || '(none)', (notServed.get(target.provider || '(none)') ?? 0) + 1);
    }
  }

  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  t.diagnostic(`corpus: ${String(corpus.header.source)}`);
  t.diagnostic(`blocks ${corpus.blocks.length}, started ${started}, refused ${corpus.blocks.length - started}`);
  for (const [why, list] of [...refusedBy].sort((a, b) => b[1].length - a[1].length)) t.diagnostic(`  refused ${list.length}: ${why}`);
  t.diagnostic(`deployments ${deployments}, callable now ${callable}, unavailable ${deployments - callable}`);
  for (const [kind, n] of sorted(unavailable)) t.diagnostic(`  unavailable ${n}: ${kind}`);
  t.diagnostic(`prefixes not served: ${sorted(notServed).map(([p, n]) => `${p} (${n})`).join(', ') || 'none'}`);
  assert.deepEqual(problems, []);
});
