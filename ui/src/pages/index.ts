// Every page, in navigation order. A page module exports one PageDef; add it here.
import type { PageDef } from './registry';
import { accountPage } from './account';
import { livePage } from './live';
import { logsPage } from './logs';
import { runsPage } from './runs';
import { spendPage } from './spend';

export const PAGES: PageDef[] = [livePage, spendPage, logsPage, runsPage, accountPage];
