// The C load generator (loadgen.c): built with the machine's `cc` the first time a bench needs it,
// cached by the source's hash under the bench's temp dir, and run as a child process per step.
// It costs a few µs of CPU per request where autocannon's JavaScript takes most of a core on a
// 2-core machine (issue 15), so max-throughput figures show the targets' gap as it is.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CannonStep } from './load';
import { ROOT } from './processes';
import type { RequestSpec } from './timed-request';

export const LOADGEN_SOURCE = path.join(ROOT, 'native-bench', 'loadgen.c');

/** What one run of the generator prints (one JSON object on stdout). */
export interface LoadgenResult {
  generator: 'weir-loadgen';
  mode: 'closed' | 'open';
  connections: number;
  rate: number;
  elapsed_s: number;
  /** Requests written; every one was answered, failed or timed out (the run waits for them). */
  sent: number;
  completed: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** TCP connections opened (one per connection slot unless the server closed some). */
  connects: number;
  rps: number;
  status: Record<string, number>;
  latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  gen_lag_max_ms: number;
  first_error: string | null;
}

export class NoCompilerError extends Error {}

/**
 * The generator's binary, built if needed: `dir/weir-loadgen-<hash of the source>`. Throws a
 * NoCompilerError naming what to do when no C compiler runs.
 */
export function buildLoadgen(dir = path.join(os.tmpdir(), 'weir-bench')): string {
  const src = fs.readFileSync(LOADGEN_SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const bin = path.join(dir, `weir-loadgen-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const cc = process.env.CC || 'cc';
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync(cc, ['-O2', '-o', tmp, LOADGEN_SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') {
      throw new NoCompilerError(`native-bench: no C compiler ('${cc}') to build the load generator (native-bench/loadgen.c): install one (apt-get install gcc), set CC, or run with --generator autocannon`);
    }
    throw new Error(`native-bench: building native-bench/loadgen.c with '${cc}' failed: ${err.stderr?.toString().trim() || err.message}`);
  }
  fs.renameSync(tmp, bin); // atomic: a concurrent bench sees the whole binary or none
  return bin;
}

/** The whole HTTP/1.1 request the generator sends, as bytes (Host and Content-Length added). */
export function requestBytes(url: string, spec: RequestSpec): Buffer {
  const u = new URL(url);
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `host: ${u.host}`];
  for (let i = 0; i < spec.headers.length; i += 2) {
    const name = spec.headers[i]!;
    if (/^(host|content-length|connection)$/i.test(name)) continue;
    lines.push(`${name}: ${spec.headers[i + 1]!}`);
  }
  if (spec.body !== null) lines.push(`content-length: ${spec.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return spec.body === null ? head : Buffer.concat([head, spec.body]);
}

export interface LoadgenRun {
  connections: number;
  /** Seconds of sending; or `requests` in all. */
  durationS?: number;
  requests?: number;
  /** Open loop at this rate (req/s); closed loop when absent. */
  rate?: number;
  timeoutS?: number;
}

/** One run against `url` (http://host:port) with `spec`; the request file lives in `dir`. */
export async function runLoadgen(bin: string, url: string, spec: RequestSpec, run: LoadgenRun, dir = path.dirname(bin)): Promise<LoadgenResult> {
  const u = new URL(url);
  const file = path.join(dir, `request-${process.pid}-${createHash('sha256').update(url).update(spec.path).digest('hex').slice(0, 8)}.http`);
  fs.writeFileSync(file, requestBytes(url, spec));
  const args = ['--host', u.hostname, '--port', u.port || '80', '--request-file', file, '--connections', String(run.connections)];
  if (run.durationS !== undefined) args.push('--duration', String(run.durationS));
  if (run.requests !== undefined) args.push('--requests', String(run.requests));
  if (run.rate !== undefined) args.push('--rate', String(run.rate));
  if (run.timeoutS !== undefined) args.push('--timeout', String(run.timeoutS));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(bin, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`weir-loadgen failed: ${stderr.trim() || err.message}`)) : resolve(stdout)));
    });
    return JSON.parse(out) as LoadgenResult;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** A closed-loop run as a throughput step (the shape autocannon's steps have). */
export function loadgenStep(r: LoadgenResult): CannonStep {
  return {
    connections: r.connections,
    rps: r.rps,
    total: r.completed,
    sent: r.sent,
    p50: r.latency_ms.p50,
    p99: r.latency_ms.p99,
    p999: r.latency_ms.p999,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}
