// Chooses the HTTP engine a worker runs: the first uWebSockets.js build that loads on this
// Node/glibc pair, else node:http. The reason a build did not load is kept for the start line.
import { NodeEngine, nodeHasReusePort } from './node-engine';
import type { Engine, RequestHandler } from './exchange';
import { UwsEngine, type UwsModule } from './uws-engine';

// In order of preference. @btc-vision's build needs glibc ≥ 2.38; trufflesuite's runs on 2.36.
const UWS_BUILDS = ['uWebSockets.js', '@btc-vision/uwebsockets.js', '@trufflesuite/uws-js-unofficial'];

export interface EngineChoice {
  kind: 'uws' | 'node';
  /** Package name of the uWS build, or why node:http is used. */
  detail: string;
  /** Whether several worker threads can share the listening port. */
  multiThread: boolean;
}

let loaded: { mod: UwsModule; name: string } | null | undefined;
let failures: string[] = [];

function tryLoadUws(): { mod: UwsModule; name: string } | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  failures = [];
  for (const name of UWS_BUILDS) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(name) as UwsModule;
      if (typeof mod.App === 'function') {
        loaded = { mod, name };
        break;
      }
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0]!;
      if (!msg.includes('Cannot find module')) failures.push(`${name}: ${msg}`);
    }
  }
  return loaded;
}

/** Decides the engine; `forced` comes from WEIR_HTTP_ENGINE (uws|node) for tests and diagnosis. */
export function chooseEngine(forced?: string): EngineChoice {
  if (forced !== 'node') {
    const uws = tryLoadUws();
    if (uws) return { kind: 'uws', detail: uws.name, multiThread: true };
    if (forced === 'uws') throw new Error(`WEIR_HTTP_ENGINE=uws but no uWebSockets.js build loads (${failures.join('; ') || 'none installed'})`);
  }
  const why = forced === 'node' ? 'WEIR_HTTP_ENGINE=node' : `no uWebSockets.js build loads${failures.length ? ` (${failures.join('; ')})` : ''}`;
  const multiThread = nodeHasReusePort();
  return { kind: 'node', detail: why, multiThread };
}

export function createEngine(choice: EngineChoice, handler: RequestHandler): Engine {
  if (choice.kind === 'uws') {
    const uws = tryLoadUws()!;
    return new UwsEngine(uws.mod, `uWebSockets.js (${uws.name})`, handler);
  }
  return new NodeEngine(`node:http (${choice.detail})`, handler, choice.multiThread);
}
