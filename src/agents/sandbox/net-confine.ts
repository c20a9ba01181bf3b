// Puts an agent's sandbox under its network boundary, where it has one (a local bwrap sandbox:
// net-boundary.ts), and points the agent at the gateway's address inside it. One path for a run
// (executor.ts, after the clone and before the agent) and a session's terminal (terminal.ts, before
// its PTY), so what a profile's egress allow-list fences is the same in both.
import type { HarnessInput, Sandbox } from '../types';

/**
 * An https gateway URL (a public_url with TLS) cannot be carried to a loopback address under its
 * certificate's name: the agent then keeps the host's network, and its list binds what goes through
 * the egress proxy, as in the sandboxes without bwrap.
 */
export async function confineNetwork(sandbox: Sandbox, input: HarnessInput): Promise<void> {
  const base = new URL(input.baseUrl);
  if (base.protocol !== 'http:' || !sandbox.confineNetwork) return;
  const net = sandbox.confineNetwork();
  if (!net) return;
  const at = await net.reach(base.hostname.replace(/^\[|\]$/g, ''), Number(base.port) || 80);
  input.net = net;
  input.baseUrl = `http://${at.host}:${at.port}${base.pathname.replace(/\/+$/, '')}`;
}
