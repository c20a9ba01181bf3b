// A real redis-server for the scale-out tests: found on PATH (or /usr/bin, /usr/sbin), else
// installed from the distribution's packages when the tests run as root, else the tests fail
// with the command to run. It never skips. One server per test file, on a free port, no
// persistence; kill() and restart() (same port) are for the outage tests.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findOnPath } from '../../src/agents/sandbox/isolation';
import { ensureDebianPackage } from './debian-package';
import { freePort } from '../../src/net/free-port';

function locate(): string | null {
  return findOnPath('redis-server') ?? ['/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p)) ?? null;
}

/** The redis-server binary, installing it as root when it is missing; throws with the command otherwise. */
export function redisServerBinary(): string {
  const r = ensureDebianPackage('redis-server', 'by the scale-out tests', locate);
  if ('error' in r) throw new Error(r.error);
  return r.found;
}

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** One command over a fresh connection (RESP), e.g. ['GET', 'k']: the reply as text (null for nil). */
  command(args: string[]): Promise<string | number | null | unknown[]>;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const bin = redisServerBinary();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-redis-'));
  let proc: ChildProcess | null = null;
  const launch = async () => {
    const p = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/Ready to accept connections/.test(out)) resolve();
      };
      p.stdout!.on('data', check);
      p.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  };
  const gone = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: gone,
    restart: launch,
    command: (args) => respCommand(port, args),
    async stop() {
      await gone();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal RESP client for test assertions (one command, one reply). */
function respCommand(port: number, args: string[]): Promise<string | number | null | unknown[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      const r = parseReply(buf, 0);
      if (r) {
        s.end();
        resolve(r.value);
      }
    });
    s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

function parseReply(b: string, at: number): { value: string | number | null | unknown[]; end: number } | null {
  const eol = b.indexOf('\r\n', at);
  if (eol < 0) return null;
  const head = b[at];
  const rest = b.slice(at + 1, eol);
  if (head === '+' || head === '-') return { value: rest, end: eol + 2 };
  if (head === ':') return { value: Number(rest), end: eol + 2 };
  if (head === '$') {
    const n = Number(rest);
    if (n < 0) return { value: null, end: eol + 2 };
    if (b.length < eol + 2 + n + 2) return null;
    return { value: b.slice(eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
  }
  if (head === '*') {
    const n = Number(rest);
    const items: unknown[] = [];
    let pos = eol + 2;
    for (let i = 0; i < n; i++) {
      const r = parseReply(b, pos);
      if (!r) return null;
      items.push(r.value);
      pos = r.end;
    }
    return { value: items, end: pos };
  }
  return { value: rest, end: eol + 2 };
}
