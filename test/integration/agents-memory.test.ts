// Memory: the /mcp server and /v1/agent/notes. The real Claude Code, run by a job whose profile pins
// notes tagged `pinned`, is scripted by the mock upstream to call the memory tools (remember, then
// search): the note it keeps lands in the job's memory with its run, the note it finds comes back
// in its answer, and the pinned note reached the model through ~/.claude/CLAUDE.md (never the
// workspace). The real Codex is scripted the same way (remember, then recall by the id it got
// back), with the calls in the shape it runs an MCP tool in (`namespace` beside `name`), and reads
// its pinned note from ~/.codex/AGENTS.md.
// A `command` run saves an artifact through /mcp with curl. The API reads and edits
// notes per owner, and each kind of bad input gets its 4xx.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { offersTool, toolCall, toolResult } from '../support/tool-loop';
import { MASTER_KEY, adminOk, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, mustStart, scriptProfile, waitRun } from './agent-runs-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

/** The namespace tool Codex offers the memory server's tools in: `mcp__` and the server's name. */
const CODEX_MEMORY = 'mcp__weir_memory';
const MCP_ACCEPT = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
const SAVE_ARTIFACT = `curl -sS -H "authorization: Bearer $WEIR_API_KEY" -H 'accept: application/json, text/event-stream' -H 'content-type: application/json' \
 -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"save_artifact","arguments":{"name":"report.md","content":"# the report"}}}' "$WEIR_MCP_URL"; echo`;

before(async () => {
  mock = await startMock();
  const db = await ledgerDatabase('agents_memory');
  pool = dbPool(db);
  const profiles =
    `    - {name: codex-remembering, agent: codex, sandbox: dev, model: codex-coder, timeout: 180s, max_budget: 1, memory: {pin_tags: [pinned]}}\n` +
    `    - {name: remembering, agent: claude-code, sandbox: dev, model: claude, max_turns: 6, timeout: 180s, max_budget: 1, memory: {pin_tags: [pinned]}}\n` +
    scriptProfile('saver', SAVE_ARTIFACT) +
    scriptProfile('forgetful', 'echo "mcp=${WEIR_MCP_URL:-none}"', { memory: false });
  const jobs =
    `    - {name: mem-job, profile: remembering, prompt: "Remember how to build, then find the release note."}\n` +
    `    - {name: codex-job, profile: codex-remembering, prompt: "Remember the lint command."}\n`;
  const models = `  - model_name: codex-coder
    litellm_params: { model: openai/gpt-5.5, api_base: ${mock.url}/v1, api_key: sk-up, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
`;
  weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles, jobs }).replace('model_list:\n', `model_list:\n${models}`)));
});

/**
 * The text of an MCP tool's answer as Codex gives it back to the model: the call's
 * function_call_output is a list of input_text parts, Codex's own `Wall time: … seconds\nOutput:`
 * first, then one part per text block of the tool's result (the memory tools answer with one).
 */
function codexMcpOutput(json: any, callId: string): string {
  const item = (json?.input ?? []).find((i: any) => i?.type === 'function_call_output' && i.call_id === callId);
  assert.ok(item, `the turn carries the output of ${callId}`);
  assert.ok(Array.isArray(item.output), JSON.stringify(item));
  const [head, ...parts] = item.output;
  assert.match(head?.text ?? '', /^Wall time: [\d.]+ seconds\nOutput:$/, JSON.stringify(item));
  assert.deepEqual(parts.map((p: any) => p.type), ['input_text'], JSON.stringify(item));
  return parts[0].text;
}

after(() => closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close()));

const notes = (path: string, init: { method?: string; body?: unknown; key?: string } = {}) =>
  call(weir.url, `/v1/agent/notes${path}`, { headers: bearer(init.key ?? MASTER_KEY), method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), body: init.body });

describe('memory over MCP, with the real Claude Code and Codex', () => {
  it('a job run remembers and searches notes through /mcp; its pinned note is in its user memory file', async () => {
    const nonce = randomBytes(5).toString('hex');
    const pinnedBody = `release with make release-${nonce}`;
    const created = await notes('', { body: { scope: 'job:mem-job', title: 'How to release', body: pinnedBody, tags: ['pinned'] } });
    assert.equal(created.status, 201, created.text);
    const learned = `build with make all-${nonce}`;
    const remember = { id: `toolu_rem${nonce}`, name: 'mcp__weir-memory__remember', arguments: JSON.stringify({ title: 'How to build', body: learned, tags: ['build'] }) };
    const search = { id: `toolu_sea${nonce}`, name: 'mcp__weir-memory__search', arguments: JSON.stringify({ query: `release-${nonce}` }) };
    mock.setDefault({
      reply: ({ api, json }) => {
        const tools: any[] = Array.isArray(json?.tools) ? json.tools : [];
        if (!tools.some((t) => t?.name === remember.name)) return { text: 'no memory tools offered' };
        const found = toolResult(api, json, search.id);
        if (found !== undefined) return { text: `Found: ${found}` };
        if (toolResult(api, json, remember.id) !== undefined) return { toolCall: search };
        return { toolCall: remember };
      },
    });
    const seenBefore = mock.requests.length;
    const { id } = await mustStart(weir.url, { job: 'mem-job' });
    const run = await waitRun(weir.url, id, undefined, 170_000);
    const evs = await events(weir.url, id);
    const said = () => JSON.stringify({ run, tail: evs.slice(-10) }, null, 1).slice(0, 5000);
    assert.equal(run.status, 'succeeded', said());
    assert.ok(run.result.startsWith('Found: ') && run.result.includes(pinnedBody), said());

    const kept = await one(pool, `SELECT scope, run_id, body, tags FROM "Weir_AgentNote" WHERE body = $1`, [learned]);
    assert.deepEqual(kept, { scope: 'job:mem-job', run_id: id, body: learned, tags: ['build'] });
    const listed = await notes(`?scope=job:mem-job&q=${nonce}`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.data.map((n: any) => n.body).sort(), [learned, pinnedBody].sort());

    // The pinned note reached the model from ~/.claude/CLAUDE.md; the workspace holds nothing of it.
    const sent = mock.requests.slice(seenBefore).filter((r) => (r.json?.tools ?? []).some((t: any) => t?.name === remember.name));
    assert.ok(sent.length >= 3, 'remember, search, final answer');
    assert.ok(sent[0]!.body.toString('utf8').includes(pinnedBody), 'the pinned note is in what the model read');
    const diff = await call(weir.url, `/v1/agent/runs/${id}/artifacts/diff.patch`, { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.ok(diff.status === 404 || !diff.text.includes(pinnedBody), 'the pinned note is not in the repository');
  });

  it('a Codex run remembers and recalls notes through /mcp (the namespaced calls it runs); its pinned note is in ~/.codex/AGENTS.md', async () => {
    // Codex offers an MCP server's tools in one namespace tool (mcp__weir_memory) and runs a call
    // that names the tool and its namespace apart; each call's result comes back to the model in
    // the next turn as its function_call_output. The recall asks for the id the remember output
    // gave the model, so the second call depends on what the first one returned.
    const nonce = randomBytes(5).toString('hex');
    const pinnedBody = `lint with npm run lint-${nonce}`;
    assert.equal((await notes('', { body: { scope: 'job:codex-job', title: 'Lint', body: pinnedBody, tags: ['pinned'] } })).status, 201);
    const learned = `fix lint with npm run lint:fix-${nonce}`;
    const remember = { id: `call_rem${nonce}`, namespace: CODEX_MEMORY, name: 'remember', arguments: JSON.stringify({ title: 'Lint fixes', body: learned, tags: ['lint'] }) };
    const recallId = `call_rec${nonce}`;
    mock.setDefault({
      reply: ({ api, json }) => {
        if (!offersTool(api, json, 'remember', CODEX_MEMORY)) return { text: 'no memory tools offered' };
        const recalled = toolResult(api, json, recallId);
        if (recalled !== undefined) return { text: `Recalled: ${recalled}` };
        const remembered = toolResult(api, json, remember.id);
        if (remembered === undefined) return { toolCall: remember };
        const gotId = /"id": *"(note_[0-9a-f]+)"/.exec(remembered)?.[1];
        if (!gotId) return { text: `the remember output names no note: ${remembered}` };
        return { toolCall: { id: recallId, namespace: CODEX_MEMORY, name: 'recall', arguments: JSON.stringify({ id: gotId }) } };
      },
    });
    const seenBefore = mock.requests.length;
    const { id } = await mustStart(weir.url, { job: 'codex-job' });
    const run = await waitRun(weir.url, id, undefined, 170_000);
    const evs = await events(weir.url, id);
    const said = () => JSON.stringify({ run, tail: evs.slice(-12) }, null, 1).slice(0, 6000);
    assert.equal(run.status, 'succeeded', said());

    // The note is in the job's memory with the run that kept it: the call reached /mcp with the run key.
    const kept = await one(pool, `SELECT id, scope, run_id, title, body, tags FROM "Weir_AgentNote" WHERE body = $1`, [learned]);
    assert.ok(kept, `Codex kept no note\n${said()}`);
    const { id: noteId, ...where } = kept;
    assert.deepEqual(where, { scope: 'job:codex-job', run_id: id, title: 'Lint fixes', body: learned, tags: ['lint'] });

    const sent = mock.requests.slice(seenBefore).filter((r) => r.path.endsWith('/responses'));
    assert.equal(sent.length, 3, 'remember, recall, final answer');
    const ns = (sent[0]!.json.tools ?? []).find((t: any) => t?.type === 'namespace' && t.name === CODEX_MEMORY);
    assert.ok(ns, `Codex offered the memory server's tools: ${JSON.stringify((sent[0]!.json.tools ?? []).map((t: any) => t?.name))}`);
    assert.deepEqual((ns.tools ?? []).map((t: any) => t.name).sort(), ['forget', 'recall', 'remember', 'save_artifact', 'search']);
    assert.ok(sent[0]!.body.toString('utf8').includes(pinnedBody), 'the pinned note is in what the model read');
    // Each later turn replays the namespaced call it answers, and the tool's answer as the model got it.
    assert.deepEqual(toolCall('responses', sent[1]!.json, remember.id), { namespace: CODEX_MEMORY, name: 'remember', input: JSON.parse(remember.arguments) });
    const rememberedOut = JSON.parse(codexMcpOutput(sent[1]!.json, remember.id));
    const { updated_at, ...shownNote } = rememberedOut.remembered;
    assert.deepEqual(shownNote, { id: noteId, title: 'Lint fixes', body: learned, tags: ['lint'] });
    assert.ok(Number.isFinite(Date.parse(updated_at)), updated_at);
    assert.deepEqual(toolCall('responses', sent[2]!.json, recallId), { namespace: CODEX_MEMORY, name: 'recall', input: { id: noteId } });
    const recalledOut = codexMcpOutput(sent[2]!.json, recallId);
    assert.deepEqual(JSON.parse(recalledOut), rememberedOut.remembered);
    assert.equal(run.result, `Recalled: ${toolResult('responses', sent[2]!.json, recallId)}`, said());
  });

  it('a command run saves an artifact through /mcp; a profile with memory off gets no MCP server', async () => {
    const { id } = await mustStart(weir.url, { profile: 'saver', prompt: 'save' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    const a = await call(weir.url, `/v1/agent/runs/${id}/artifacts/report.md`, { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.text, '# the report');

    const off = await mustStart(weir.url, { profile: 'forgetful', prompt: 'x' });
    await waitRun(weir.url, off.id);
    const printedOff = (await events(weir.url, off.id)).filter((e) => e.type === 'stdout').map((e) => e.payload.text);
    assert.deepEqual(printedOff, ['mcp=none']);
  });

  it('the master key uses the installation’s memory over /mcp; bad calls get clear errors', async () => {
    const init = await call(weir.url, '/mcp', {
      headers: { ...bearer(MASTER_KEY), ...MCP_ACCEPT },
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } } },
    });
    assert.equal(init.status, 200, init.text);
    assert.equal(init.json.result.serverInfo.name, 'weir-memory');
    const list = await call(weir.url, '/mcp', { headers: { ...bearer(MASTER_KEY), ...MCP_ACCEPT }, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    assert.deepEqual(list.json.result.tools.map((t: any) => t.name).sort(), ['forget', 'recall', 'remember', 'save_artifact', 'search']);
    const tool = (name: string, args: unknown) =>
      call(weir.url, '/mcp', { headers: { ...bearer(MASTER_KEY), ...MCP_ACCEPT }, body: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: args } } });
    const kept = await tool('remember', { title: 'global fact', body: 'the sky' });
    assert.equal(kept.json.result.isError, undefined, kept.text);
    const noteId = JSON.parse(kept.json.result.content[0].text).remembered.id;
    assert.equal((await one(pool, `SELECT scope FROM "Weir_AgentNote" WHERE id = $1`, [noteId])).scope, 'global');
    // A note of another memory is not there for this caller; an artifact needs a run.
    const jobNote = await notes('', { body: { scope: 'job:mem-job', title: 't', body: 'b' } });
    const other = await tool('forget', { id: jobNote.json.id });
    assert.equal(other.json.result.isError, true);
    assert.match(other.json.result.content[0].text, /no note/);
    const art = await tool('save_artifact', { name: 'x.txt', content: 'x' });
    assert.equal(art.json.result.isError, true);
    assert.match(art.json.result.content[0].text, /only a run/);
    const bad = await tool('remember', { title: '', body: 'x' });
    assert.equal(bad.json.result.isError, true);

    const noKey = await call(weir.url, '/mcp', { headers: MCP_ACCEPT, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    assert.equal(noKey.status, 401, noKey.text);
    assert.equal(typeof noKey.json.error.message, 'string');
    const notJson = await call(weir.url, '/mcp', { headers: { ...bearer(MASTER_KEY), ...MCP_ACCEPT }, body: '{"jsonrpc": ' });
    assert.equal(notJson.status, 400, notJson.text);
    assert.equal(notJson.json.error.code, -32700);
  });
});

describe('/v1/agent/notes', () => {
  it('CRUD with the master key, scoped reads for a team key, and bad input refused', async () => {
    const n = await notes('', { body: { scope: 'team:t-notes', title: 'conventions', body: 'tabs', tags: ['style'] } });
    assert.equal(n.status, 201, n.text);
    assert.equal(n.json.object, 'agent.note');
    const patched = await notes(`/${n.json.id}`, { method: 'PATCH', body: { body: 'spaces' } });
    assert.equal(patched.json.body, 'spaces');
    assert.equal(patched.json.title, 'conventions');
    assert.equal((await notes(`/${n.json.id}`)).json.body, 'spaces');

    await adminOk(weir.url, '/team/new', { team_id: 't-notes' });
    await adminOk(weir.url, '/team/new', { team_id: 't-other' });
    const teamKey = (await adminOk(weir.url, '/key/generate', { team_id: 't-notes' })).key;
    const otherKey = (await adminOk(weir.url, '/key/generate', { team_id: 't-other' })).key;
    const mine = await notes('', { key: teamKey });
    assert.deepEqual(mine.json.data.map((x: any) => x.id), [n.json.id]);
    assert.deepEqual((await notes('', { key: otherKey })).json.data, []);
    assert.equal((await notes(`/${n.json.id}`, { key: otherKey })).status, 404);
    assert.equal((await notes('?scope=team:t-notes', { key: otherKey })).status, 403);
    const own = await notes('', { key: otherKey, body: { title: 'theirs', body: 'x' } });
    assert.equal(own.status, 201, own.text);
    assert.equal(own.json.scope, 'team:t-other');
    assert.equal((await notes('', { key: otherKey, body: { scope: 'team:t-notes', title: 'a', body: 'b' } })).status, 403);

    const cases: [string, { method?: string; body?: unknown }, number, string | null][] = [
      ['', { body: { scope: 'team:t-notes', body: 'no title' } }, 400, 'title'],
      ['', { body: { title: 'no scope', body: 'x' } }, 400, 'scope'],
      ['', { body: { scope: 'nowhere', title: 'a', body: 'b' } }, 400, 'scope'],
      ['', { body: { scope: 'global', title: 'a', body: 'b', tags: ['ok', 'not ok'] } }, 400, 'tags'],
      ['', { body: { scope: 'global', title: 'a', body: 'x'.repeat(64 * 1024 + 1) } }, 400, 'body'],
      ['', { body: [1] }, 400, null],
      ['?limit=ten', {}, 400, 'limit'],
      ['/note_missing', {}, 404, 'id'],
      [`/${n.json.id}`, { method: 'PATCH', body: {} }, 400, 'body'],
    ];
    for (const [path, init, status, param] of cases) {
      const r = await notes(path, init);
      assert.equal(r.status, status, `${path} ${JSON.stringify(init).slice(0, 80)}: ${r.text}`);
      assert.equal(r.json.error.param, param, r.text);
    }
    const gone = await notes(`/${n.json.id}`, { method: 'DELETE' });
    assert.equal(gone.json.deleted, true);
    assert.equal((await notes(`/${n.json.id}`)).status, 404);
  });
});
