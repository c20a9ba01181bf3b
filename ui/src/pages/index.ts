// Every page, in navigation order. A page module exports one PageDef; add it here.
import type { PageDef } from './registry';
import { accountPage } from './account';
import { budgetsPage } from './budgets';
import { endUsersPage } from './end-users';
import { keysPage } from './keys';
import { livePage } from './live';
import { logsPage } from './logs';
import { modelsPage } from './models';
import { organizationsPage } from './organizations';
import { runsPage } from './runs';
import { spendPage } from './spend';
import { teamsPage } from './teams';
import { usersPage } from './users';

export const PAGES: PageDef[] = [
  livePage,
  keysPage,
  teamsPage,
  usersPage,
  organizationsPage,
  endUsersPage,
  budgetsPage,
  modelsPage,
  spendPage,
  logsPage,
  runsPage,
  accountPage,
];
