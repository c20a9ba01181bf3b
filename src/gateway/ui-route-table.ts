// The admin page's entries in the worker's route table: its files, its login endpoints and its
// live stream (their handlers: src/ui/ui-routes.ts). Public, since they authenticate themselves:
// the page and the login need no key; /ui/live takes a session or a key, checked once the caller
// is known. Entries are made once, when the gateway is built.
import type { Exchange } from '../server/exchange';
import type { StaticBundle } from '../ui/static-files';
import type { UiRoutes } from '../ui/ui-routes';
import type { Dialect } from './errors';
import type { Route } from './gateway';
import type { Identity } from './identity';

/** What a gateway built without the page's files (tests) serves under /ui. */
export const NO_PAGE: StaticBundle = { files: new Map(), missing: 'The admin page is not served by this gateway.' };

/** Runs `then` once the caller is known (the gateway's own). */
export type AfterIdentity = (ex: Exchange, dialect: Dialect, id: Identity | Promise<Identity>, then: (who: Identity) => void) => void;

const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export function addUiRoutes(routes: Map<string, Route>, ui: UiRoutes, afterIdentity: AfterIdentity): void {
  const page: Route = { methods: ['GET', 'HEAD'], public: true, handler: (ex) => ui.page(ex) };
  for (const p of ['/ui', '/ui/', '/ui/index.html']) routes.set(p, page);
  routes.set('/ui/login', { methods: ANY_METHOD, public: true, handler: (ex) => ui.login(ex) });
  routes.set('/ui/session', { methods: ANY_METHOD, public: true, handler: (ex) => ui.session(ex) });
  routes.set('/ui/logout', { methods: ANY_METHOD, public: true, handler: (ex) => ui.logout(ex) });
  routes.set('/ui/live', { methods: ANY_METHOD, handler: (ex, _s, id) => afterIdentity(ex, 'openai', id, (who) => ui.live(ex, who)) });
}
