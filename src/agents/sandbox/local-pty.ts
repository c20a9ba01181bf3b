// The PTY of a `local` sandbox: util-linux's `script` (no native module), its input a FIFO in the
// sandbox's HOME that Weir holds open for writing (a libuv pipe: a write never blocks the control
// thread), its output the exec's standard output. The FIFO is a path Weir opens on its own side,
// which only a sandbox whose files are the host's allows; cloud sandboxes use their provider's PTY
// API instead (cloud-sandbox.ts).
import { randomBytes } from 'node:crypto';
import { constants, openSync } from 'node:fs';
import net from 'node:net';
import type { PtyOptions, Sandbox, SandboxPty } from '../types';
import { quote } from './command-line';

export async function localPty(sandbox: Sandbox, o: PtyOptions): Promise<SandboxPty> {
  const fifo = `${sandbox.home}/.weir/pty-${randomBytes(6).toString('hex')}.in`;
  // Writable by Weir whichever host user the sandbox runs as; its folder is not listable.
  let said = '';
  const made = await sandbox.exec({
    argv: ['sh', '-c', 'mkdir -p -m 711 "${WEIR_PTY_IN%/*}" && mkfifo -m 622 "$WEIR_PTY_IN"'],
    env: { WEIR_PTY_IN: fifo },
    onStdout: () => {},
    onStderr: (c) => (said += c.toString('utf8').slice(0, 500)),
  }).done;
  if (made !== 0) throw new Error(`mkfifo failed (${made}): ${said.trim()}`);
  // Read-write: the open never waits for the reader, and the pipe never sees an end of file while
  // Weir holds it (script would stop at one).
  const stdin = new net.Socket({ fd: openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
  stdin.on('error', () => {}); // the program went away: what was typed goes nowhere, `done` says why
  const inner = `stty cols ${o.cols} rows ${o.rows} 2>/dev/null; exec ${o.argv.map(quote).join(' ')}`;
  const h = sandbox.exec({
    argv: ['sh', '-c', 'exec script -qfec "$WEIR_PTY_CMD" /dev/null < "$WEIR_PTY_IN"'],
    env: { ...o.env, WEIR_PTY_CMD: inner, WEIR_PTY_IN: fifo, TERM: 'xterm-256color' },
    onStdout: o.onData,
    onStderr: o.onData,
  });
  const done = h.done.finally(() => stdin.destroy());
  return {
    done,
    write: (chunk) => void stdin.write(chunk),
    get pendingBytes() {
      return stdin.writableLength;
    },
    kill: () => {
      h.kill();
      stdin.destroy();
    },
  };
}
