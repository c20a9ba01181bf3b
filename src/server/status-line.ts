import { STATUS_CODES } from 'node:http';

// uWS writes the status line verbatim, so it needs "200 OK", not 200. Built once per code.
const lines = new Map<number, string>();

export function statusLine(status: number): string {
  let line = lines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    lines.set(status, line);
  }
  return line;
}
