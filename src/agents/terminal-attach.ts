// A viewer's WebSocket on /v1/agent/sessions/{id}/attach, relayed by a worker: the call is checked
// again as the worker's first one was, the session looked up and touched, then the socket becomes a
// viewer of the session's terminal (terminal.ts). What the client sends during those few round
// trips to Postgres is kept: its last resize is the viewer's size, its keystrokes are typed in order
// once the viewer is attached (past EARLY_INPUT_MAX they are dropped, and the viewer is told once
// attached).
import type { StreamStop } from '../control/supervisor';
import type { AgentCall } from '../gateway/agent-relay';
import { log } from '../log';
import type { StreamControl, StreamSink } from '../server/worker-protocol';
import type { ApiAnswer } from './api';
import type { Sessions } from './sessions';
import type { Terminals } from './terminal';
import { sizeFromQuery, type TerminalSize } from './terminal-size';

/** Early keystrokes kept: 256 K characters of base64 (four of the largest frames); only a paste fills it. */
const EARLY_INPUT_MAX = 256 * 1024;

export interface AttachDeps {
  /** The agents API, which answers the GET of the session as the attach's own check. */
  handle(call: AgentCall): Promise<ApiAnswer>;
  sessions: Sessions;
  terminals: Terminals;
}

export function attachViewer(deps: AttachDeps, call: AgentCall, sink: StreamSink): StreamStop {
  let viewer: ReturnType<Terminals['attach']> | null = null;
  let early: TerminalSize | null = null;
  let typed: string[] | null = [];
  let typedChars = 0;
  let dropped = false;
  let closed = false;
  void (async () => {
    const check = await deps.handle({ ...call, method: 'GET' });
    const id = decodeURIComponent(call.path.split('/').filter(Boolean)[3] ?? '');
    const session = check.status === 200 ? await deps.sessions.get(id) : null;
    if (closed) return;
    if (!session) {
      // The worker let this viewer in a moment ago with the same check: say why it is refused now.
      log.warn(`agents: attach to ${id} refused after the upgrade: ${check.status === 200 ? 'the session is gone' : `${check.status} ${JSON.stringify(check.body)}`}`);
      sink.head(check.status === 200 ? 404 : check.status, ['content-type', 'application/json']);
      sink.data(JSON.stringify(check.body));
      return sink.end();
    }
    await deps.sessions.touch(session.id);
    if (closed) return;
    // A resize sent before the viewer was attached is its size then (it came after the query's).
    viewer = deps.terminals.attach(session, sink, early ?? sizeFromQuery(new URLSearchParams(call.query)));
    for (const chunk of typed!) viewer.input(chunk);
    typed = null;
    if (dropped) sink.data(Buffer.from(`\r\n[weir: input dropped: at most ${EARLY_INPUT_MAX / 1024} K typed before the viewer is attached are kept]\r\n`).toString('base64'));
  })().catch((e: unknown) => {
    log.warn(`agents: attach: ${(e as Error).message}`);
    sink.end();
  });
  return Object.assign(
    () => {
      closed = true;
      viewer?.();
    },
    {
      input: (chunk: string) => {
        if (viewer) return viewer.input(chunk);
        if (!typed) return;
        if (typedChars + chunk.length > EARLY_INPUT_MAX) return void (dropped = true);
        typed.push(chunk);
        typedChars += chunk.length;
      },
      control: (c: StreamControl) => {
        if (c.type !== 'resize') return;
        const size = { cols: c.cols, rows: c.rows };
        if (viewer) viewer.resize(size);
        else early = size;
      },
    },
  );
}
