// Hash routing (#/keys, #/runs/<id>?tab=events): the server serves one index.html for the whole
// page, so nothing but the fragment changes between pages.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The first segment: the page. */
  page: string;
  /** The rest of the path, decoded. */
  rest: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = h.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { page: parts[0] ?? '', rest: parts.slice(1), params: new URLSearchParams(query) };
}

export function href(page: string, ...rest: string[]): string {
  return '#/' + [page, ...rest].map(encodeURIComponent).join('/');
}

export function navigate(to: string): void {
  location.hash = to.startsWith('#') ? to : '#' + to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
