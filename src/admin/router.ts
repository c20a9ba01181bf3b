// The management API's entry point on the control thread: route, check the caller's role against
// the route's access (roles.ts; README "Roles"), run the handler (which limits non-admins to their
// own rows through scope.ts), answer. Errors answer in LiteLLM's envelope {"error": {message, type, param, code}}.
import type { AdminContext, AdminRequest, AdminResponse } from './types';
import type { Call } from './common';
import { AdminError, errorResponse, toAdminError } from './errors';
import { type Access, authorize } from './roles';
import * as keys from './keys';
import * as keyInfo from './key-info';
import * as teams from './teams';
import * as users from './users';
import * as customers from './customers';
import * as budgets from './budgets';
import * as orgs from './organizations';
import * as spend from './spend';
import * as models from './models';
import * as spendUi from './spend-ui';

interface Route {
  methods: string[];
  access: Access;
  run(call: Call, param: string | null): Promise<unknown>;
}

const POST = ['POST'];
const GET = ['GET'];
const r = (methods: string[], access: Access, fn: (call: Call) => Promise<unknown>): Route => ({ methods, access, run: (c) => fn(c) });

const customerRoutes = (prefix: string): Array<[string, Route]> => [
  [`${prefix}/new`, r(POST, 'admin', customers.customerNew)],
  [`${prefix}/update`, r(POST, 'admin', customers.customerUpdate)],
  [`${prefix}/delete`, r(POST, 'admin', customers.customerDelete)],
  [`${prefix}/block`, r(POST, 'admin', customers.customerBlock)],
  [`${prefix}/unblock`, r(POST, 'admin', customers.customerUnblock)],
  [`${prefix}/info`, r(GET, 'read', customers.customerInfo)],
  [`${prefix}/list`, r(GET, 'read', customers.customerList)],
];

const ROUTES = new Map<string, Route>([
  ['/key/generate', r(POST, 'own-write', keys.keyGenerate)],
  ['/key/service-account/generate', r(POST, 'own-write', keys.keyServiceAccountGenerate)],
  ['/key/update', r(POST, 'own-write', keys.keyUpdate)],
  ['/key/delete', r(POST, 'own-write', keys.keyDelete)],
  ['/key/info', r(GET, 'self', keyInfo.keyInfo)],
  ['/v2/key/info', r(POST, 'own-read', keyInfo.keyInfoV2)],
  ['/key/list', r(GET, 'own-read', keyInfo.keyList)],
  ['/key/regenerate', { methods: POST, access: 'own-write', run: (c) => keys.keyRegenerate(c, null) }],
  ['/key/block', r(POST, 'own-write', keys.keyBlock)],
  ['/key/unblock', r(POST, 'own-write', keys.keyUnblock)],

  ['/team/new', r(POST, 'admin', teams.teamNew)],
  ['/team/update', r(POST, 'admin', teams.teamUpdate)],
  ['/team/delete', r(POST, 'admin', teams.teamDelete)],
  ['/team/info', r(GET, 'own-read', teams.teamInfo)],
  ['/team/list', r(GET, 'own-read', teams.teamList)],
  ['/team/member_add', r(POST, 'team-admin', teams.teamMemberAdd)],
  ['/team/member_delete', r(POST, 'team-admin', teams.teamMemberDelete)],
  ['/team/member_update', r(POST, 'team-admin', teams.teamMemberUpdate)],
  ['/team/block', r(POST, 'admin', teams.teamBlock)],
  ['/team/unblock', r(POST, 'admin', teams.teamUnblock)],

  ['/user/new', r(POST, 'admin', users.userNew)],
  ['/user/update', r(POST, 'admin', users.userUpdate)],
  ['/user/delete', r(POST, 'admin', users.userDelete)],
  ['/user/info', r(GET, 'own-read', users.userInfo)],
  ['/user/list', r(GET, 'read', users.userList)],

  ...customerRoutes('/customer'),
  ...customerRoutes('/end_user'),

  ['/budget/new', r(POST, 'admin', budgets.budgetNew)],
  ['/budget/update', r(POST, 'admin', budgets.budgetUpdate)],
  ['/budget/delete', r(POST, 'admin', budgets.budgetDelete)],
  ['/budget/info', r(POST, 'read', budgets.budgetInfo)],
  ['/budget/list', r(GET, 'read', budgets.budgetList)],

  ['/organization/new', r(POST, 'admin', orgs.orgNew)],
  ['/organization/update', r([...POST, 'PATCH'], 'admin', orgs.orgUpdate)],
  ['/organization/delete', r([...POST, 'DELETE'], 'admin', orgs.orgDelete)],
  ['/organization/info', r([...GET, ...POST], 'read', orgs.orgInfo)],
  ['/organization/list', r(GET, 'read', orgs.orgList)],
  ['/organization/member_add', r(POST, 'admin', orgs.orgMemberAdd)],

  ['/spend/logs', r(GET, 'own-read', spend.spendLogs)],
  ['/spend/logs/ui', r(GET, 'own-read', spendUi.spendLogsUi)],
  ['/global/spend/breakdown', r(GET, 'read', spendUi.globalSpendBreakdown)],
  ['/global/spend', r(GET, 'read', spend.globalSpend)],
  ['/global/spend/keys', r(GET, 'read', spend.globalSpendKeys)],
  ['/global/spend/teams', r(GET, 'read', spend.globalSpendTeams)],
  ['/global/spend/models', r(GET, 'read', spend.globalSpendModels)],
  ['/global/spend/end_users', r([...GET, ...POST], 'read', spend.globalSpendEndUsers)],
  ['/user/daily/activity', r(GET, 'own-read', spend.userDailyActivity)],
  ['/team/daily/activity', r(GET, 'own-read', spend.teamDailyActivity)],

  // Models stored in the database (store_model_in_db); PATCH /model/{id}/update is matched in find().
  ['/model/new', r(POST, 'admin', models.modelNew)],
  ['/model/update', r(POST, 'admin', models.modelUpdate)],
  ['/model/delete', r(POST, 'admin', models.modelDelete)],
]);

const MODEL_PATCH_PATH = /^\/model\/([^/]+)\/update$/;
const MODEL_PATCH_ROUTE: Route = { methods: ['PATCH'], access: 'admin', run: (c, id) => models.modelPatch(c, id) };

const REGENERATE_PATH = /^\/key\/([^/]+)\/regenerate$/;
const REGENERATE_ROUTE: Route = { methods: POST, access: 'own-write', run: (c, key) => keys.keyRegenerate(c, key) };

function normalize(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function find(path: string): { route: Route; param: string | null } | null {
  const p = normalize(path);
  const route = ROUTES.get(p);
  if (route) return { route, param: null };
  const m = REGENERATE_PATH.exec(p);
  if (m) {
    let key = m[1]!;
    try {
      key = decodeURIComponent(key);
    } catch {
      /* keep as sent */
    }
    return { route: REGENERATE_ROUTE, param: key };
  }
  const mp = MODEL_PATCH_PATH.exec(p);
  if (mp) {
    let id = mp[1]!;
    try {
      id = decodeURIComponent(id);
    } catch {
      /* keep as sent */
    }
    return { route: MODEL_PATCH_ROUTE, param: id };
  }
  return null;
}

/** True for every path this module answers (whatever the method), so workers know to relay it. */
export function isAdminPath(path: string): boolean {
  return find(path) !== null;
}

export async function handleAdmin(req: AdminRequest, ctx: AdminContext): Promise<AdminResponse> {
  try {
    const found = find(req.path);
    if (!found) throw new AdminError(404, `Route not found: ${req.path}`);
    const method = req.method.toUpperCase();
    if (!found.route.methods.includes(method)) throw new AdminError(405, `Method ${method} not allowed on ${req.path}; use ${found.route.methods.join(' or ')}`, null, 'bad_request_error');
    authorize(req.caller, found.route.access, normalize(req.path));
    const body = await found.route.run({ req, ctx }, found.param);
    return { status: 200, body };
  } catch (e) {
    return errorResponse(toAdminError(e));
  }
}
