// Every page, in navigation order. A page module exports one PageDef; add it here.
import type { PageDef } from './registry';
import { accountPage } from './account';

export const PAGES: PageDef[] = [accountPage];
