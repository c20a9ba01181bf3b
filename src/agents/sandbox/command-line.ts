// A command line for a cloud sandbox's shell from an argv, a folder, an environment and a stdin
// file (or, in a PTY, the terminal): every value single-quoted (nothing the agent or a profile wrote is ever parsed by the
// shell), stdin always redirected (Daytona's session shell keeps its stdin open: a command reading
// it would wait forever), and `exec` so that killing the shell's process kills the command.
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: string[], cwd: string, env: Record<string, string>, stdinFile: string | undefined): string {
  const stdin = stdinFile === undefined ? '/dev/null' : stdinFile;
  return `${terminalLine(argv, cwd, env)} < ${quote(stdin)}`;
}

/** The same for a program in a PTY: its stdin is the terminal. */
export function terminalLine(argv: string[], cwd: string, env: Record<string, string>): string {
  if (argv.length === 0) throw new Error('exec: empty argv');
  const assigns: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!NAME.test(k)) throw new Error(`exec: not a variable name: ${JSON.stringify(k)}`);
    assigns.push(quote(`${k}=${v}`));
  }
  return `cd ${quote(cwd)} && exec env ${assigns.join(' ')} ${argv.map(quote).join(' ')}`;
}
