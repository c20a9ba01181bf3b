// A TCP port that was free a moment ago: bound on port 0, then released. Used to pick a port for
// the workers to share (uSockets sets SO_REUSEPORT only on a fixed port), for an embedded
// PostgreSQL, and by tests that need a port nothing listens on.
import net from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
