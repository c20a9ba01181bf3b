// One line per event, to stdout, timestamped. Callers never pass keys or upstream secrets; the
// helpers that describe deployments for logs print ids and hosts only.

function line(level: string, msg: string): void {
  process.stdout.write(`${new Date().toISOString()} weir ${level} ${msg}\n`);
}

export const log = {
  info: (msg: string) => line('info', msg),
  warn: (msg: string) => line('warn', msg),
  error: (msg: string) => line('error', msg),
  debug: (msg: string) => line('debug', msg),
};
