// nginx as a plain keep-alive reverse proxy to the mock: the floor for a proxy at all. The bench
// writes its config (everything under one temporary prefix, bound to 127.0.0.1) and starts it when
// nginx is installed; otherwise it says so and the run goes on without it.
import fs from 'node:fs';
import path from 'node:path';
import { freePort, spawnReady, waitForPort, type Child } from './processes';

const SEARCH = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/homebrew/bin', '/usr/bin', '/usr/local/bin'];

/** Path of the nginx binary, or null when it is not installed. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), ...SEARCH];
  for (const d of dirs) {
    const p = path.join(d, 'nginx');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface NginxConfigOptions {
  prefix: string;
  listenPort: number;
  upstreamPort: number;
  workers: number;
}

export function nginxConfig(o: NginxConfigOptions): string {
  const p = (f: string) => path.join(o.prefix, f);
  return `# written by npm run bench (native-bench/nginx.ts): a plain keep-alive reverse proxy
daemon off;
master_process on;
worker_processes ${o.workers};
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};
  client_max_body_size 16m;
  client_body_buffer_size 1m;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream mock {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 512;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:${o.listenPort} reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 120s;
    }
  }
}
`;
}

export interface NginxServer {
  child: Child;
  url: string;
}

/** Starts nginx, or resolves to a reason why not (not installed, or it failed to start). */
export async function startNginx(o: { upstreamPort: number; workers: number; dir: string; cpus?: string }): Promise<NginxServer | string> {
  const bin = findNginx();
  if (!bin) return 'nginx not installed';
  const prefix = path.resolve(o.dir, 'nginx');
  fs.mkdirSync(prefix, { recursive: true });
  const listenPort = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig({ prefix, listenPort, upstreamPort: o.upstreamPort, workers: o.workers }));
  try {
    // nginx prints nothing when it starts: readiness is its port accepting connections.
    const { child } = await spawnReady('nginx', bin, ['-p', prefix, '-c', conf], {
      cpus: o.cpus,
      ready: () => waitForPort(listenPort, 10_000),
      timeoutMs: 12_000,
    });
    return { child, url: `http://127.0.0.1:${listenPort}` };
  } catch (e) {
    const log = fs.existsSync(path.join(prefix, 'error.log')) ? fs.readFileSync(path.join(prefix, 'error.log'), 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
    return `nginx failed to start: ${(e as Error).message.split('\n')[0]}${log ? ` (${log})` : ''}`;
  }
}
