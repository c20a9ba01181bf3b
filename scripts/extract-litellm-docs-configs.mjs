#!/usr/bin/env node
// Extracts the proxy config blocks of LiteLLM's documentation into one JSON corpus, so the
// regression test (test/unit/litellm-docs-configs.test.ts) can hold Weir to "LiteLLM's docs
// configs start". Redo it whenever the docs move:
//
//   node scripts/extract-litellm-docs-configs.mjs <git-dir of BerriAI/litellm-docs or BerriAI/litellm> [out.json]
//
// A block is a fenced ```yaml / ```yml block (any fence attributes, any indentation: MDX nests
// them in tabs and lists) with `model_list:`, `litellm_settings:`, `general_settings:` or
// `router_settings:` at its top level. The docs live under `docs/` in BerriAI/litellm-docs and
// under `docs/my-website/docs/` in BerriAI/litellm; both layouts are read.
// The text is LiteLLM's documentation (MIT licence, Copyright (c) Berri AI): the corpus says so in
// its header and is kept out of this repository's commits (see the test's header).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const [gitDir, out = 'test/fixtures/litellm-docs-configs.json'] = process.argv.slice(2);
if (!gitDir) {
  process.stderr.write('usage: extract-litellm-docs-configs.mjs <git-dir> [out.json]\n');
  process.exit(2);
}
const git = (...args) => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

const commit = git('rev-parse', 'HEAD').trim();
const remote = (() => {
  try {
    return git('config', '--get', 'remote.origin.url').trim();
  } catch {
    return '';
  }
})();
const DOCS = /^(docs\/my-website\/docs|docs)\/.*\.mdx?$/;
const files = git('ls-tree', '-r', 'HEAD', '--name-only').split('\n').filter((p) => DOCS.test(p)).sort();

const FENCE_OPEN = /^([ \t]*)(`{3,}|~{3,})[ \t]*(yaml|yml)\b.*$/i;
const TOP_KEY = /^(model_list|litellm_settings|general_settings|router_settings)[ \t]*:/m;

/** The fenced yaml blocks of one Markdown file, each dedented by its fence's indentation. */
function yamlBlocks(text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE_OPEN.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const fence = m[2];
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const t = lines[j].trimStart();
      if (t.startsWith(fence[0].repeat(fence.length)) && t.replace(/[`~]/g, '').trim() === '') break;
      // Remove the fence's indentation, no more than the line has of it.
      let k = 0;
      while (k < indent && (lines[j][k] === ' ' || lines[j][k] === '\t')) k++;
      body.push(lines[j].slice(k));
    }
    blocks.push(body.join('\n') + '\n');
    i = j;
  }
  return blocks;
}

const blocks = [];
for (const file of files) {
  const text = git('show', `HEAD:${file}`);
  const rel = file.replace(/^docs\/my-website\/docs\//, 'docs/');
  yamlBlocks(text).forEach((yaml, index) => {
    if (TOP_KEY.test(yaml)) blocks.push({ source: `${rel}#${index}`, yaml });
  });
}

const corpus = {
  header: {
    what: 'Proxy config blocks (fenced yaml with model_list / litellm_settings / general_settings / router_settings at top level) from LiteLLM\'s documentation, as written there',
    source: `${remote || 'BerriAI/litellm-docs'} at ${commit}`,
    licence: 'MIT License, Copyright (c) Berri AI: the text of each block is LiteLLM\'s documentation',
    extractedBy: 'scripts/extract-litellm-docs-configs.mjs',
    files: files.length,
    blocks: blocks.length,
  },
  blocks,
};
fs.writeFileSync(out, JSON.stringify(corpus, null, 1) + '\n');
process.stdout.write(`${blocks.length} blocks from ${files.length} files -> ${out}\n`);
