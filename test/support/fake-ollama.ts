// A small fake of Ollama's native API (POST /api/chat and /api/generate, as in Ollama's
// docs/api.md) over real HTTP, for the `ollama_chat/` and `ollama/` translation. It checks what
// Ollama would refuse (an unknown model, a request without `model`, a /api/chat request without
// `messages` or a /api/generate one without `prompt`) and answers as Ollama does: one JSON object,
// or (Ollama's default when `stream` is absent) NDJSON lines ending with `done: true` and the
// counts `prompt_eval_count` / `eval_count`. The stream is written in pieces of `chunkBytes`
// bytes (1: every byte its own write), so lines and UTF-8 characters split anywhere.
import * as http from 'node:http';

export interface OllamaRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  json: any;
}

export interface OllamaReply {
  /** The answer's text (split into `pieces` stream lines). */
  text?: string;
  /** /api/chat: a tool call instead of text. */
  toolCall?: { name: string; arguments: Record<string, unknown> };
  thinking?: string;
  pieces?: number;
  promptEvalCount?: number;
  evalCount?: number;
  doneReason?: string;
  /** Stream writes of this many bytes (default: a line at a time). */
  chunkBytes?: number;
}

export interface FakeOllama {
  url: string;
  requests: OllamaRequest[];
  /** The models it has pulled; others get Ollama's 404. */
  models: Set<string>;
  /** The answers of the next requests, in order; then `script`'s; then a default text. */
  next: OllamaReply[];
  script: ((json: any) => OllamaReply) | null;
  close(): Promise<void>;
}

function lines(api: 'chat' | 'generate', model: string, r: OllamaReply): object[] {
  const created_at = '2026-01-01T00:00:00Z';
  const text = r.text ?? 'Hello from Ollama';
  const n = Math.max(1, r.pieces ?? 3);
  const size = Math.ceil(text.length / n);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  const out: object[] = [];
  const msg = (content: string, extra: object = {}) => (api === 'chat' ? { message: { role: 'assistant', content, ...extra } } : { response: content, ...extra });
  if (r.thinking) out.push({ model, created_at, ...(api === 'chat' ? { message: { role: 'assistant', content: '', thinking: r.thinking } } : { response: '', thinking: r.thinking }), done: false });
  if (r.toolCall && api === 'chat') out.push({ model, created_at, message: { role: 'assistant', content: '', tool_calls: [{ function: r.toolCall }] }, done: false });
  else for (const p of parts) out.push({ model, created_at, ...msg(p), done: false });
  out.push({
    model,
    created_at,
    ...msg(''),
    done: true,
    done_reason: r.doneReason ?? 'stop',
    total_duration: 1000,
    prompt_eval_count: r.promptEvalCount ?? 11,
    eval_count: r.evalCount ?? 7,
  });
  return out;
}

function whole(api: 'chat' | 'generate', model: string, r: OllamaReply): object {
  const base = { model, created_at: '2026-01-01T00:00:00Z', done: true, done_reason: r.doneReason ?? 'stop', prompt_eval_count: r.promptEvalCount ?? 11, eval_count: r.evalCount ?? 7 };
  if (api === 'generate') return { ...base, response: r.text ?? 'Hello from Ollama', ...(r.thinking ? { thinking: r.thinking } : {}) };
  const message = r.toolCall
    ? { role: 'assistant', content: '', tool_calls: [{ function: r.toolCall }] }
    : { role: 'assistant', content: r.text ?? 'Hello from Ollama', ...(r.thinking ? { thinking: r.thinking } : {}) };
  return { ...base, message };
}

async function writePieces(res: http.ServerResponse, data: Buffer, size: number): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    if (!res.write(data.subarray(i, i + size))) await new Promise((r) => res.once('drain', r));
    // Each piece leaves in its own write: wait for the socket to take it before the next.
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

export async function startFakeOllama(): Promise<FakeOllama> {
  const requests: OllamaRequest[] = [];
  const fake: FakeOllama = { url: '', requests, models: new Set(['llama3.1', 'qwen3:8b']), next: [], script: null, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const fail = (status: number, error: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error }));
      };
      let json: any;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return fail(400, 'invalid character in request body');
      }
      requests.push({ path, headers: req.headers, json });
      const api = path === '/api/chat' ? 'chat' : path === '/api/generate' ? 'generate' : null;
      if (req.method !== 'POST' || !api) return fail(404, '404 page not found');
      if (typeof json.model !== 'string') return fail(400, 'model is required');
      if (!fake.models.has(json.model)) return fail(404, `model "${json.model}" not found, try pulling it first`);
      if (api === 'chat' && !Array.isArray(json.messages)) return fail(400, 'messages is required');
      if (api === 'generate' && typeof json.prompt !== 'string') return fail(400, 'prompt is required');
      const reply = fake.next.shift() ?? fake.script?.(json) ?? {};
      if (json.stream === false) {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        return res.end(JSON.stringify(whole(api, json.model, reply)));
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const data = Buffer.from(lines(api, json.model, reply).map((l) => `${JSON.stringify(l)}\n`).join(''));
      if (reply.chunkBytes) return void writePieces(res, data, reply.chunkBytes);
      res.end(data);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}
