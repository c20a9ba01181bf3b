// Teams: the list (server-paged, searched by name or id) and a new team's form; a row opens the
// team's page (team-detail.tsx) with its members and keys.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorLine, money } from '../components/bits';
import { EntityForm } from '../components/form';
import { PAGE_SIZE, SearchBox, usePaging } from '../components/paging';
import { type Column, Pager, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { href, navigate } from '../router';
import { isAdmin } from '../session';
import type { PageDef, PageProps } from './registry';
import { TeamDetail } from './team-detail';
import { TEAM_FIELDS } from './team-fields';

export interface TeamRow {
  team_id: string;
  team_alias?: string | null;
  spend?: number | null;
  max_budget?: number | null;
  models?: string[];
  blocked?: boolean | null;
  members_with_roles?: Array<{ user_id?: string | null; user_email?: string | null; role?: string }>;
  keys?: unknown[];
  [k: string]: unknown;
}

interface TeamPage {
  teams: TeamRow[];
  total: number;
  total_pages: number;
}

const columns: Column<TeamRow>[] = [
  { title: 'Name', cell: (t) => <a href={href('teams', t.team_id)}>{t.team_alias || t.team_id}</a> },
  { title: 'Team id', cell: (t) => <code>{t.team_id}</code> },
  { title: 'Members', numeric: true, cell: (t) => String(t.members_with_roles?.length ?? 0) },
  { title: 'Keys', numeric: true, cell: (t) => String(t.keys?.length ?? 0) },
  { title: 'Spend', numeric: true, cell: (t) => money(t.spend ?? 0) },
  { title: 'Budget', numeric: true, cell: (t) => (t.max_budget == null ? '—' : money(t.max_budget)) },
  { title: 'Models', cell: (t) => (t.models?.length ? t.models.join(', ') : 'all') },
  { title: 'State', cell: (t) => (t.blocked ? <span class="badge bad">blocked</span> : <span class="badge ok">active</span>) },
];

function TeamList({ session }: PageProps) {
  const paging = usePaging();
  const [creating, setCreating] = useState(false);
  const list = useLoad((signal) => api<TeamPage>('/team/list', { query: { page: paging.page, page_size: PAGE_SIZE, team_alias: paging.search }, signal }), [paging.page, paging.search]);
  return (
    <section>
      <h1>Teams</h1>
      <div class="toolbar">
        <SearchBox paging={paging} label="Team name or id" />
        <span class="spacer" />
        {isAdmin(session) && !creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create team
          </button>
        )}
      </div>
      {creating && (
        <EntityForm
          title="New team"
          fields={TEAM_FIELDS}
          submitLabel="Create"
          onSubmit={async (body) => {
            const t = await api<TeamRow>('/team/new', { body });
            setCreating(false);
            navigate(href('teams', t.team_id));
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      <ErrorLine error={list.error} />
      <Table testId="teams" columns={columns} rows={list.data?.teams ?? []} rowKey={(t) => t.team_id} onRow={(t) => navigate(href('teams', t.team_id))} empty={list.loading ? 'Loading…' : 'No teams.'} />
      <Pager page={paging.page} hasNext={paging.page < (list.data?.total_pages ?? 0)} total={list.data?.total} onPage={paging.setPage} />
    </section>
  );
}

function Teams(props: PageProps) {
  const id = props.route.rest[0];
  return id ? <TeamDetail key={id} teamId={id} session={props.session} /> : <TeamList {...props} />;
}

export const teamsPage: PageDef = { id: 'teams', title: 'Teams', component: Teams };
