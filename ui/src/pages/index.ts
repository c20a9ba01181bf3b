// Every page, in navigation order. A page module exports one PageDef; add it here.
import type { PageDef } from './registry';
import { accountPage } from './account';
import { budgetsPage } from './budgets';
import { endUsersPage } from './end-users';
import { keysPage } from './keys';
import { modelsPage } from './models';
import { organizationsPage } from './organizations';
import { teamsPage } from './teams';
import { usersPage } from './users';

export const PAGES: PageDef[] = [keysPage, teamsPage, usersPage, organizationsPage, endUsersPage, budgetsPage, modelsPage, accountPage];
