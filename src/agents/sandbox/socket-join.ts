// Two sockets joined both ways, each destroyed with the other on an error: the forwarding of the
// local sandbox's network boundary, on the host (net-boundary.ts) and inside (net-relay.ts). Node
// builtins only, as net-relay.ts runs with the host's node inside the sandbox.
import type net from 'node:net';

export function joinSockets(inner: net.Socket, outer: net.Socket): void {
  inner.pipe(outer).pipe(inner);
  const drop = () => {
    inner.destroy();
    outer.destroy();
  };
  inner.on('error', drop);
  outer.on('error', drop);
}
