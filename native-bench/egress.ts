// The egress proxy's added time per request to a swapped host (the vault's target: ≤ 1 ms):
//   node dist/native-bench/egress.js [--requests N] [--rounds R]
// An HTTPS server stands in for the secret's host (its own thread); the proxy runs on its own
// thread as Weir runs it (vault/egress-thread.ts), with a run registered whose stub it swaps for
// that host. The client (this thread) sends N sequential GETs carrying the stub over one kept-alive
// TLS connection, straight to the server and then through the proxy (CONNECT, TLS terminated,
// header swapped, forwarded on a kept-alive TLS connection), alternating R rounds of each. It
// prints the median and p99 latency of each path and their difference: the proxy's share.
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { makeCa } from '../src/agents/vault/ca';
import { Egress } from '../src/agents/vault/egress';
import { keyHash } from '../src/agents/vault/egress-proxy';
import { LeafCerts } from '../src/agents/vault/leaf-certs';

const RUN_KEY = 'sk-bench-run-key';
const STUB = 'weir-stub-bench-token-0123456789abcdef';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(v > 0)) throw new Error(`${name} needs a positive number`);
  return v;
}

/** The stand-in host on its own thread: answers every GET with a small body. */
function startUpstream(ca: { certPem: string; keyPem: string }): Promise<{ port: number; worker: Worker }> {
  const code = `
    const https = require('node:https');
    const { parentPort, workerData } = require('node:worker_threads');
    const s = https.createServer({ key: workerData.key, cert: workerData.cert, keepAliveTimeout: 60000 }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.headers.authorization === 'Bearer REAL-VALUE' ? '{"ok":true}' : '{"ok":false}');
    });
    s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`;
  const leaf = new LeafCerts(ca);
  const { key, cert } = leaf.pems('localhost');
  const worker = new Worker(code, { eval: true, workerData: { key, cert } });
  return new Promise((resolve) => worker.once('message', (port: number) => resolve({ port, worker })));
}

/** GETs over one TLS socket; returns each request's time in ms. */
async function timedGets(socket: tls.TLSSocket, host: string, n: number): Promise<number[]> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  // The agent uses the socket we made (already connected, possibly through the proxy).
  (agent as unknown as { createConnection: () => tls.TLSSocket }).createConnection = () => socket;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = https.request({ host, path: '/user', agent, headers: { authorization: `Bearer ${STUB}` } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => (body.length ? resolve() : reject(new Error('empty answer'))));
      });
      req.on('error', reject);
      req.end();
    });
    times.push(performance.now() - t0);
  }
  agent.destroy();
  return times;
}

function tlsOver(socket: net.Socket | undefined, port: number, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ ...(socket ? { socket } : { host: '127.0.0.1', port }), servername: 'localhost', ca }, () => resolve(t));
    t.once('error', reject);
  });
}

function connectThrough(proxyPort: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    s.setNoDelay(true);
    s.once('connect', () =>
      s.write(`CONNECT ${target} HTTP/1.1\r\nproxy-authorization: Basic ${Buffer.from(`weir:${RUN_KEY}`).toString('base64')}\r\n\r\n`),
    );
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (!got.startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT: ${got.split('\r\n')[0]}`));
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  const n = arg('--requests', 2000);
  const rounds = arg('--rounds', 5);
  const upstreamCa = makeCa('bench-upstream');
  const installCa = makeCa('bench');
  const up = await startUpstream(upstreamCa);
  const egress = new Egress({ ca: async () => installCa, host: '127.0.0.1', port: 0, upstreamCa: [upstreamCa.certPem], log: () => {} });
  await egress.register(keyHash(RUN_KEY), { runId: 'bench', swaps: [{ stub: STUB, value: 'REAL-VALUE', hosts: ['localhost'] }], allow: null });
  const proxyPort = await egress.port();
  const direct: number[] = [];
  const proxied: number[] = [];
  // Warm-up: the proxy's certificate for the host, both TLS sessions, the JIT.
  await timedGets(await tlsOver(undefined, up.port, upstreamCa.certPem), 'localhost', 200);
  await timedGets(await tlsOver(await connectThrough(proxyPort, `localhost:${up.port}`), up.port, installCa.certPem), 'localhost', 200);
  for (let r = 0; r < rounds; r++) {
    direct.push(...(await timedGets(await tlsOver(undefined, up.port, upstreamCa.certPem), 'localhost', n)));
    proxied.push(...(await timedGets(await tlsOver(await connectThrough(proxyPort, `localhost:${up.port}`), up.port, installCa.certPem), 'localhost', n)));
  }
  const f = (x: number) => x.toFixed(3);
  console.log(`egress proxy, ${rounds} rounds × ${n} sequential GETs over one kept-alive TLS connection, stub swapped on every request`);
  console.log(`direct   p50 ${f(pct(direct, 50))} ms  p99 ${f(pct(direct, 99))} ms`);
  console.log(`proxied  p50 ${f(pct(proxied, 50))} ms  p99 ${f(pct(proxied, 99))} ms`);
  console.log(`added    p50 ${f(pct(proxied, 50) - pct(direct, 50))} ms  p99 ${f(pct(proxied, 99) - pct(direct, 99))} ms  (target ≤ 1 ms)`);
  await egress.stop();
  await up.worker.terminate();
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
