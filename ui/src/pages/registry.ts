// What a page module gives the app: its place in the navigation and who may see it.
import type { ComponentType } from 'preact';
import type { Route } from '../router';
import type { Session } from '../session';

export interface PageProps {
  session: Session;
  route: Route;
}

export interface PageDef {
  /** The first segment of the hash path (#/keys → "keys"). */
  id: string;
  title: string;
  component: ComponentType<PageProps>;
  /** Hidden from the navigation (and not rendered) for sessions this returns false for. */
  visible?: (s: Session) => boolean;
  /** Asked once per session: false hides the page (a feature the server does not have configured). */
  available?: () => Promise<boolean>;
}
