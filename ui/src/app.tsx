// The page's frame: the login gate, the navigation and the page the hash names. A 401 from any call
// (the session expired or was logged out elsewhere) brings the login back.
import { useEffect, useState } from 'preact/hooks';
import { onSessionExpired } from './api';
import { Login } from './pages/login';
import { PAGES } from './pages/index';
import { href, useRoute } from './router';
import { current, logout, type Session } from './session';

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [unavailable, setUnavailable] = useState<ReadonlySet<string>>(new Set());
  /** Availability checks still out: the navigation says when it has its final set of pages. */
  const [checking, setChecking] = useState(0);
  const route = useRoute();

  useEffect(() => {
    current().then(setSession, () => setSession(null));
    return onSessionExpired(() => setSession(null));
  }, []);

  // Pages of features the server may lack (agent runs) ask once per session whether they are there.
  useEffect(() => {
    if (!session) return;
    let live = true;
    const asked = PAGES.filter((p) => p.available);
    setChecking(asked.length);
    for (const p of asked) {
      p.available!()
        .then(
          (ok) => live && !ok && setUnavailable((s) => new Set(s).add(p.id)),
          () => undefined,
        )
        .finally(() => live && setChecking((n) => n - 1));
    }
    return () => {
      live = false;
    };
  }, [session]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <Login onLogin={setSession} />;

  const pages = PAGES.filter((p) => (!p.visible || p.visible(session)) && !unavailable.has(p.id));
  const page = pages.find((p) => p.id === route.page) ?? pages[0]!;
  const Page = page.component;
  const out = async () => {
    await logout().catch(() => undefined);
    setSession(null);
  };
  return (
    <div class="frame">
      <nav aria-label="Pages" data-settled={checking === 0 ? 'true' : 'false'}>
        <span class="brand">Weir</span>
        {pages.map((p) => (
          <a key={p.id} href={href(p.id)} aria-current={p === page ? 'page' : undefined}>
            {p.title}
          </a>
        ))}
        <span class="who" data-testid="who">
          {session.user_id ?? 'admin'} · {session.user_role}
        </span>
        <button type="button" onClick={out}>
          Log out
        </button>
      </nav>
      <main>
        <Page key={page.id} session={session} route={route} />
      </main>
    </div>
  );
}
