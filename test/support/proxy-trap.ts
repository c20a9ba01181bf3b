// A local HTTP proxy that forwards nothing: the agent CLIs get it as HTTP(S)_PROXY, so any call
// they make past 127.0.0.1 (NO_PROXY) lands here, is written down and refused at once. A test can
// then say that a run reached no other host, and a new CLI version that adds a call fails fast
// instead of waiting on a host this machine cannot reach.
import * as http from 'node:http';
import type { Socket } from 'node:net';

export interface ProxyTrap {
  url: string;
  /** One line per attempt: `CONNECT host:443` or `GET http://host/path`. */
  hits: string[];
  close(): Promise<void>;
}

export async function startProxyTrap(): Promise<ProxyTrap> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(403, { connection: 'close' }).end();
  });
  server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    hits.push(`CONNECT ${req.url}`);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
