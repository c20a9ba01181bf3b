// A git smart-HTTP server over the bare repositories of one folder (git's own http-backend as a
// CGI); given an Authorization header, it serves only requests carrying it (what a private
// repository on a forge does with a token). Records the header of every request it saw. Given a
// certificate, it serves HTTPS at https://<host>:port (listening on 127.0.0.1).
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface GitHttp {
  url: string;
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export async function startGitHttp(projectRoot: string, authorization?: string, tls?: { key: string; cert: string; host: string }): Promise<GitHttp> {
  const authorizations: (string | undefined)[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    authorizations.push(req.headers.authorization);
    if (authorization !== undefined && req.headers.authorization !== authorization) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const u = new URL(req.url!, 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'safe.directory',
        GIT_CONFIG_VALUE_0: '*',
      },
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
    cgi.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, end).toString().split('\r\n');
      let status = 200;
      const headers: Record<string, string> = {};
      for (const h of head) {
        const i = h.indexOf(':');
        const k = h.slice(0, i).trim().toLowerCase();
        const v = h.slice(i + 1).trim();
        if (k === 'status') status = parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers).end(all.subarray(end + 4));
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: tls ? `https://${tls.host}:${port}` : `http://127.0.0.1:${port}`,
    authorizations,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
