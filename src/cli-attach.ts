// `weir attach SESSION`: the session's live terminal (the agent's interactive CLI in its sandbox)
// in this terminal, over the WebSocket at /v1/agent/sessions/{id}/attach. Keystrokes go as they
// are typed (raw mode on a terminal) in binary frames; Ctrl-] detaches and leaves the agent
// running, as telnet's escape does; attaching again replays the end of what it printed and goes on.
// The terminal's window size goes with the upgrade (`?cols=&rows=`) and again, as a text frame
// `{"type":"resize","cols":N,"rows":N}`, each time the window changes (SIGWINCH: stdout's
// 'resize') — only when Weir said on the upgrade that it takes them (the `x-weir-terminal-controls`
// header): an older Weir would type the JSON into the terminal. A text frame from Weir is a control
// message (an error), shown on stderr.
import WebSocket from 'ws';
import { TERMINAL_CONTROLS_HEADER } from './server/ws-route';

export const ATTACH_USAGE = `usage: weir attach SESSION [--url URL] [--key KEY]

  SESSION      a session id (ses_…, from POST /v1/agent/sessions)
  --url URL    Weir's address (or WEIR_URL; default http://127.0.0.1:4000)
  --key KEY    the key that owns the session, or an admin key (or WEIR_API_KEY, else LITELLM_MASTER_KEY)

The terminal takes this window's size, and follows it when it changes.
Ctrl-] detaches: the agent goes on, and \`weir attach SESSION\` again resumes.
Exit codes: 0 detached or the terminal ended, 1 unreachable, 2 bad usage or refused (4xx).`;

/** Telnet's escape character: never something an agent's TUI needs. */
const DETACH = 0x1d;
/** The largest side Weir takes (agents/terminal-size.ts): a wider window is told as this. */
const MAX_SIDE = 1000;

export interface WindowSize {
  cols: number;
  rows: number;
}

/** The window stdout is shown in, or null when it is no terminal (a pipe: Weir keeps its default). */
export function windowSize(out: NodeJS.WritableStream): WindowSize | null {
  const tty = out as Partial<NodeJS.WriteStream>;
  if (!tty.isTTY || !tty.columns || !tty.rows) return null;
  const side = (n: number) => Math.min(MAX_SIDE, Math.max(1, Math.floor(n)));
  return { cols: side(tty.columns), rows: side(tty.rows) };
}

/** The attach WebSocket's address, with the window's size when there is one. */
export function attachUrl(url: string, session: string, size: WindowSize | null): string {
  const base = `${url.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/agent/sessions/${encodeURIComponent(session)}/attach`;
  return size ? `${base}?cols=${size.cols}&rows=${size.rows}` : base;
}

/** Whether the upgrade's answer says Weir takes resize frames (the header is a comma list). */
export function takesResize(headers: Record<string, string | string[] | undefined>): boolean {
  const v = headers[TERMINAL_CONTROLS_HEADER];
  const all = Array.isArray(v) ? v.join(',') : (v ?? '');
  return all.split(',').some((c) => c.trim().toLowerCase() === 'resize');
}

/** The control message that tells Weir the window's new size (sent as a text frame). */
export function resizeMessage(size: WindowSize): string {
  return JSON.stringify({ type: 'resize', cols: size.cols, rows: size.rows });
}

export class AttachUsageError extends Error {}

export interface AttachArgs {
  url: string;
  key: string | null;
  session: string | null;
  help: boolean;
}

export function parseAttachArgs(argv: string[], env: NodeJS.ProcessEnv): AttachArgs {
  const a: AttachArgs = { url: env.WEIR_URL || 'http://127.0.0.1:4000', key: env.WEIR_API_KEY || env.LITELLM_MASTER_KEY || null, session: null, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new AttachUsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--help' || arg === '-h') a.help = true;
    else if (arg === '--url') a.url = value();
    else if (arg === '--key') a.key = value();
    else if (arg.startsWith('-')) throw new AttachUsageError(`unknown option ${arg}`);
    else if (a.session === null) a.session = arg;
    else throw new AttachUsageError(`one session at a time (got ${a.session} and ${arg})`);
  }
  if (a.help) return a;
  if (!a.session) throw new AttachUsageError('which session? weir attach SESSION');
  if (!/^https?:\/\//.test(a.url)) throw new AttachUsageError(`--url must be an http(s) URL, got ${a.url}`);
  return a;
}

export interface AttachIo {
  stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function attachCommand(argv: string[], env: NodeJS.ProcessEnv, io: AttachIo): Promise<number> {
  let a: AttachArgs;
  try {
    a = parseAttachArgs(argv, env);
  } catch (e) {
    io.stderr.write(`weir attach: ${(e as Error).message}\n${ATTACH_USAGE}\n`);
    return Promise.resolve(2);
  }
  if (a.help) {
    io.stdout.write(`${ATTACH_USAGE}\n`);
    return Promise.resolve(0);
  }
  let size = windowSize(io.stdout);
  const target = attachUrl(a.url, a.session!, size);
  return new Promise((resolve) => {
    const ws = new WebSocket(target, { headers: a.key ? { authorization: `Bearer ${a.key}` } : {} });
    const tty = 'isTTY' in io.stdin && io.stdin.isTTY ? (io.stdin as NodeJS.ReadStream) : null;
    let detached = false;
    let done = false;
    // Set from the upgrade's answer, before 'open'.
    let resizable = false;
    ws.on('upgrade', (res) => (resizable = takesResize(res.headers)));
    const finish = (code: number, line?: string) => {
      if (done) return;
      done = true;
      tty?.setRawMode(false);
      io.stdin.removeListener('data', onInput);
      io.stdout.removeListener('resize', onResize);
      io.stdin.pause();
      if (line) io.stderr.write(`\r\n${line}\r\n`);
      resolve(code);
    };
    const onInput = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const at = b.indexOf(DETACH);
      if (at > 0) ws.send(b.subarray(0, at));
      if (at >= 0) {
        detached = true;
        ws.close(1000, 'detached');
        return finish(0, 'weir: detached; the agent goes on (weir attach again to resume)');
      }
      ws.send(b);
    };
    const onResize = () => {
      if (!resizable) return;
      const now = windowSize(io.stdout);
      if (!now || (size && now.cols === size.cols && now.rows === size.rows)) return;
      size = now;
      ws.send(resizeMessage(now));
    };
    ws.on('open', () => {
      tty?.setRawMode(true);
      io.stdin.on('data', onInput);
      io.stdout.on('resize', onResize);
      io.stdin.resume();
      onResize(); // the window changed while the socket opened
    });
    ws.on('message', (d, binary) => {
      const b = Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer);
      if (binary) return void io.stdout.write(b);
      let said = b.toString('utf8');
      try {
        said = (JSON.parse(said) as { error?: { message?: string } }).error?.message ?? said;
      } catch {
        /* not JSON: shown as it is */
      }
      io.stderr.write(`\r\nweir: ${said}\r\n`);
    });
    ws.on('close', (code, reason) => {
      if (!detached) finish(code === 1000 || code === 1005 ? 0 : 1, `weir: the terminal closed${reason.length ? ` (${reason.toString()})` : ''}`);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => {
        let msg = body;
        try {
          msg = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body;
        } catch {
          /* not JSON: shown as it is */
        }
        const status = res.statusCode ?? 0;
        finish(status >= 400 && status < 500 ? 2 : 1, `weir attach: ${status} ${msg}`);
      });
    });
    ws.on('error', (e) => finish(1, `weir attach: cannot reach ${a.url}: ${e.message}`));
  });
}
