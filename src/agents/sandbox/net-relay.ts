// Runs inside a local bwrap sandbox whose network namespace holds only a loopback (an egress
// allow-list made hard: see net-boundary.ts). Listens on 127.0.0.1:<port> for each `port=socket`
// given and joins every connection to that unix socket, which Weir made on the host and bound into
// the sandbox (across a namespace boundary only files pass); then runs the command and exits as it
// does. It is the namespace's first process under bwrap, so when it exits everything in the
// sandbox dies with it, and nothing it listened on outlives the exec.
//
//   node net-relay.js PORT=SOCKET... -- ARGV...
//
// Node builtins only, and no module of Weir's: it runs with the host's node in every exec of such a
// sandbox, where only this file is bound in (Weir's folder may be under the host's /tmp, which the
// sandbox does not see). So its few lines joining two sockets are its own, not net-boundary.ts's.
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

function main(args: string[]): void {
  const sep = args.indexOf('--');
  if (sep < 1 || sep === args.length - 1) {
    process.stderr.write('weir net-relay: usage: net-relay PORT=SOCKET... -- ARGV...\n');
    process.exit(127);
  }
  const routes = args.slice(0, sep).map((a) => {
    const i = a.indexOf('=');
    return { port: Number(a.slice(0, i)), socket: a.slice(i + 1) };
  });
  const argv = args.slice(sep + 1);
  let pending = routes.length;
  for (const r of routes) {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (inner) => {
      const outer = net.connect({ path: r.socket, allowHalfOpen: true });
      inner.pipe(outer).pipe(inner);
      const drop = () => {
        inner.destroy();
        outer.destroy();
      };
      inner.on('error', drop);
      outer.on('error', drop);
    });
    server.on('error', (e) => {
      process.stderr.write(`weir net-relay: cannot listen on 127.0.0.1:${r.port}: ${e.message}\n`);
      process.exit(127);
    });
    server.listen(r.port, '127.0.0.1', () => {
      if (--pending === 0) run(argv);
    });
  }
}

function run(argv: string[]): void {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  child.on('error', (e) => {
    process.stderr.write(`weir: the process did not start: ${e.message}\n`);
    process.exit(127);
  });
  // A signal the sandbox gets is the command's (its group shares it too; this is for a lone kill).
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => child.kill(s));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 9) : 9)));
}

if (require.main === module) main(process.argv.slice(2));
