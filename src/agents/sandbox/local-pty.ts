// The PTY of a `local` sandbox: util-linux's `script` (no native module), its input a FIFO in the
// sandbox's HOME that Weir holds open for writing (a libuv pipe: a write never blocks the control
// thread), its output the exec's standard output. The FIFO is a path Weir opens on its own side,
// which only a sandbox whose files are the host's allows; cloud sandboxes use their provider's PTY
// API instead (cloud-sandbox.ts).
// Resizing: `script` holds the PTY's master and follows no size but its own stdin's (a FIFO here),
// and no other process of Weir's can reach the PTY (under bwrap it is in a devpts of that exec's
// own; another exec's end would also sweep the terminal's processes). So the terminal resizes
// itself: a shell loop started inside it, before the agent, reads "COLS ROWS" lines from a second
// FIFO and runs `stty cols C rows R </dev/tty` (TIOCSWINSZ on the PTY: the kernel sends SIGWINCH
// to the agent). It holds no end of the PTY, so it never keeps `script` running: it dies of the
// hangup when the agent (the session leader) exits, or at the end of file once Weir lets go of the
// FIFO.
// A warm sandbox's pooled process chain (local-pool.ts) is the PTY's: the FIFOs are made by a cold
// set-up exec that leaves the chain alone (as a session's restore before it does), and `script` is
// the hand-over.
import { randomBytes } from 'node:crypto';
import { constants, openSync } from 'node:fs';
import net from 'node:net';
import type { ExecHandle, ExecOptions, PtyOptions, SandboxPty } from '../types';
import { quote } from './command-line';

/** What of a local sandbox the PTY uses: its home and its exec. */
export interface PtySandbox {
  home: string;
  exec(opts: ExecOptions): ExecHandle;
}

export async function localPty(sandbox: PtySandbox, o: PtyOptions): Promise<SandboxPty> {
  const base = `${sandbox.home}/.weir/pty-${randomBytes(6).toString('hex')}`;
  const fifo = `${base}.in`;
  const sizeFifo = `${base}.size`;
  // Writable by Weir whichever host user the sandbox runs as; its folder is not listable.
  let said = '';
  const made = await sandbox.exec({
    argv: ['sh', '-c', 'mkdir -p -m 711 "${WEIR_PTY_IN%/*}" && mkfifo -m 622 "$WEIR_PTY_IN" "$WEIR_PTY_SIZE"'],
    env: { WEIR_PTY_IN: fifo, WEIR_PTY_SIZE: sizeFifo },
    onStdout: () => {},
    onStderr: (c) => (said += c.toString('utf8').slice(0, 500)),
    setup: true,
  }).done;
  if (made !== 0) throw new Error(`mkfifo failed (${made}): ${said.trim()}`);
  const stdin = writer(fifo);
  const sizes = writer(sizeFifo);
  const follow = `while read -r c r; do case "$c$r" in ''|*[!0-9]*) continue;; esac; stty cols "$c" rows "$r" </dev/tty; done <${quote(sizeFifo)} >/dev/null 2>&1 &`;
  const inner = `stty cols ${o.cols} rows ${o.rows} 2>/dev/null; ${follow} exec ${o.argv.map(quote).join(' ')}`;
  const h = sandbox.exec({
    argv: ['sh', '-c', 'exec script -qfec "$WEIR_PTY_CMD" /dev/null < "$WEIR_PTY_IN"'],
    env: { ...o.env, WEIR_PTY_CMD: inner, WEIR_PTY_IN: fifo, TERM: 'xterm-256color' },
    onStdout: o.onData,
    onStderr: o.onData,
  });
  const done = h.done.finally(() => {
    stdin.destroy();
    sizes.destroy();
  });
  return {
    done,
    write: (chunk) => void stdin.write(chunk),
    get pendingBytes() {
      return stdin.writableLength;
    },
    resize: (cols, rows) => {
      // A loop that is gone (the agent killed it) takes nothing: what would pile up is not kept.
      if (sizes.writableLength < 1024) sizes.write(`${cols} ${rows}\n`);
      return Promise.resolve();
    },
    kill: () => {
      h.kill();
      stdin.destroy();
      sizes.destroy();
    },
  };
}

/**
 * A FIFO held open for writing, read-write: the open never waits for the reader, and the reader
 * never sees an end of file while Weir holds it (script would stop at one).
 */
function writer(path: string): net.Socket {
  const s = new net.Socket({ fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
  s.on('error', () => {}); // the program went away: what was sent goes nowhere, `done` says why
  return s;
}
