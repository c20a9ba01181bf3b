// How `weir run` shows a run: each event as one readable line (Claude Code's stream-json, Codex's
// exec --json, plain output and Weir's own status changes), the live status line, and the summary.
// Pure functions of the events: the CLI decides where the text goes.

export interface ShownEvent {
  seq: number;
  ts: string;
  type: string;
  payload: unknown;
}

/** What a line may hold of one field (a tool's input, a command's output): enough to follow, never a screenful. */
const FIELD_CHARS = 160;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** One line of at most `max` characters: newlines shown as ⏎, the cut marked with an ellipsis. */
export function oneLine(text: string, max = FIELD_CHARS): string {
  const flat = text.trim().replace(/\s*\r?\n\s*/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function compactJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Text of a tool result's content: a string, or the text blocks of a list. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((b) => str(obj(b)?.text) ?? (obj(b)?.type === 'image' ? '[image]' : '')).filter(Boolean).join(' ');
  }
  return content === undefined ? '' : compactJson(content);
}

function statusLine(p: Obj): string {
  const status = str(p.status) ?? '?';
  const err = obj(p.error);
  if (!err) return `● ${status}`;
  const kind = str(err.kind);
  const msg = str(err.message);
  return `● ${status}${kind ? ` (${kind})` : ''}${msg ? `: ${oneLine(msg, 400)}` : ''}`;
}

/** Claude Code: assistant text and tool calls, one line per content block. */
function claudeMessage(role: 'assistant' | 'user', p: Obj): string[] {
  const content = obj(p.message)?.content;
  if (typeof content === 'string') return [`${role === 'assistant' ? '◆' : '▷'} ${oneLine(content, 2000)}`];
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const raw of content) {
    const b = obj(raw);
    if (!b) continue;
    if (b.type === 'text' && str(b.text)?.trim()) out.push(`${role === 'assistant' ? '◆' : '▷'} ${oneLine(str(b.text)!, 2000)}`);
    else if (b.type === 'thinking' && str(b.thinking)?.trim()) out.push(`  … ${oneLine(str(b.thinking)!)}`);
    else if (b.type === 'tool_use') out.push(`→ ${str(b.name) ?? 'tool'} ${oneLine(compactJson(b.input ?? {}))}`);
    else if (b.type === 'tool_result') out.push(`${b.is_error === true ? '✗' : '←'} ${oneLine(resultText(b.content)) || '(no output)'}`);
  }
  return out;
}

/** Codex exec --json: the items it starts and completes. */
function codexItem(type: string, p: Obj): string[] {
  const item = obj(p.item);
  if (!item) return [];
  const done = type === 'item.completed';
  switch (item.type) {
    case 'agent_message':
      return done && str(item.text) ? [`◆ ${oneLine(str(item.text)!, 2000)}`] : [];
    case 'reasoning':
      return done && str(item.text) ? [`  … ${oneLine(str(item.text)!)}`] : [];
    case 'command_execution': {
      const cmd = oneLine(str(item.command) ?? compactJson(item.command));
      if (!done) return [`→ $ ${cmd}`];
      const code = typeof item.exit_code === 'number' ? item.exit_code : null;
      const output = oneLine(str(item.aggregated_output) ?? '');
      return [`${code === 0 ? '←' : '✗'} $ ${cmd} (exit ${code ?? '?'})${output ? `: ${output}` : ''}`];
    }
    case 'file_change': {
      if (!done) return [];
      const changes = Array.isArray(item.changes) ? item.changes.map((c) => `${str(obj(c)?.kind) ?? 'change'} ${str(obj(c)?.path) ?? '?'}`) : [];
      return [`← files: ${oneLine(changes.join(', ') || 'changed')}`];
    }
    case 'mcp_tool_call':
      return [`${done ? '←' : '→'} ${str(item.server) ?? 'mcp'}.${str(item.tool) ?? '?'}${done && str(item.status) ? ` (${str(item.status)})` : ''}`];
    case 'web_search':
      return done ? [`← search: ${oneLine(str(item.query) ?? '')}`] : [];
    case 'error':
      return [`✗ ${oneLine(str(item.message) ?? compactJson(item), 400)}`];
    default:
      return done ? [`  ${String(item.type ?? 'item')}: ${oneLine(compactJson(item))}`] : [];
  }
}

/**
 * The lines an event shows as (none for the chatter that says nothing: a stream's partial
 * deltas, Codex's turn.started). An event of a kind not known here shows as its type and payload.
 */
export function eventLines(e: ShownEvent): string[] {
  const p = obj(e.payload);
  switch (e.type) {
    case 'status':
      return [statusLine(p ?? {})];
    case 'stdout':
    case 'stderr': {
      const text = str(e.payload) ?? str(p?.line) ?? str(p?.text) ?? compactJson(e.payload);
      return [`${e.type === 'stderr' ? '! ' : '  '}${oneLine(text, 2000)}`];
    }
    case 'system': {
      if (p?.subtype === 'init') {
        const tools = Array.isArray(p.tools) ? `, ${p.tools.length} tools` : '';
        return [`  session ${str(p.session_id) ?? '?'} (model ${str(p.model) ?? '?'}${tools})`];
      }
      return [`  system ${str(p?.subtype) ?? ''}`.trimEnd()];
    }
    case 'assistant':
    case 'user':
      return p ? claudeMessage(e.type, p) : [];
    case 'result': {
      if (!p) return [];
      const turns = typeof p.num_turns === 'number' ? `, ${p.num_turns} turns` : '';
      const cost = typeof p.total_cost_usd === 'number' ? `, agent says $${p.total_cost_usd.toFixed(4)}` : '';
      // Claude Code's result repeats its last message (shown already); a plain command's is news.
      const text = !p.subtype && str(p.result) ? `: ${oneLine(str(p.result)!)}` : '';
      return [`■ ${str(p.subtype) ?? 'result'}${p.is_error === true ? ' (error)' : ''}${turns}${cost}${text}`];
    }
    case 'sandbox':
      return [`  sandbox ${str(p?.provider) ?? ''}: ${oneLine(str(p?.isolation) ?? compactJson(e.payload))}`];
    case 'stream_event':
    case 'turn.started':
    case 'item.updated':
      return [];
    case 'thread.started':
      return [`  thread ${str(p?.thread_id) ?? '?'}`];
    case 'item.started':
    case 'item.completed':
      return p ? codexItem(e.type, p) : [];
    case 'turn.completed': {
      const u = obj(p?.usage);
      return u ? [`  turn done (${Number(u.input_tokens ?? 0)} in, ${Number(u.output_tokens ?? 0)} out tokens)`] : ['  turn done'];
    }
    case 'turn.failed':
      return [`✗ turn failed: ${oneLine(str(obj(p?.error)?.message) ?? compactJson(p?.error), 400)}`];
    case 'error':
      return [`✗ ${oneLine(str(p?.message) ?? compactJson(e.payload), 400)}`];
    default:
      return [`  ${e.type}: ${oneLine(compactJson(e.payload))}`];
  }
}

/** Seconds as 4.2s, 3m05s, 1h02m. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatCost(usd: unknown): string {
  // A NUMERIC column may come as a string.
  const n = typeof usd === 'string' && usd.trim() !== '' ? Number(usd) : usd;
  return typeof n === 'number' && Number.isFinite(n) ? `$${n.toFixed(n < 1 ? 4 : 2)}` : '$?';
}

/** The live line of a TTY: run id, status, time since it was started, cost so far. */
export function liveStatus(o: { id: string; status: string; elapsedMs: number; cost: unknown }): string {
  return `[${o.id}] ${o.status} · ${formatElapsed(o.elapsedMs)} · ${formatCost(o.cost)}`;
}

/** What the CLI prints at the end, from the run as GET /v1/agent/runs/{id} returns it. */
export function summaryLines(run: Obj): string[] {
  const out: string[] = [];
  const result = str(run.result);
  if (result) out.push('', result.trimEnd(), '');
  const err = obj(run.error);
  const turns = typeof run.num_turns === 'number' ? ` · ${run.num_turns} turns` : '';
  const why = err ? ` (${str(err.kind) ?? 'error'}${str(err.message) ? `: ${oneLine(str(err.message)!, 400)}` : ''})` : '';
  const budget = typeof run.max_budget === 'number' ? ` of ${formatCost(run.max_budget)}` : '';
  out.push(`run ${str(run.id) ?? '?'} ${str(run.status) ?? '?'}${why} · cost ${formatCost(run.cost)}${budget}${turns}`);
  return out;
}

/** The exit code of a finished run's status (see RUN_USAGE). */
export function exitCodeOf(status: string): number {
  switch (status) {
    case 'succeeded': return 0;
    case 'timed_out': return 3;
    case 'canceled': return 4;
    default: return 1; // failed, expired (never started), skipped (a job's concurrency rule)
  }
}
