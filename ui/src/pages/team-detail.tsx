// One team: its budget and limits, its members with their roles and budgets in the team (add,
// remove, change role or budget), and its keys. Proxy admins and the team's admins manage members
// and keys; only proxy admins edit, block or delete the team.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmButton, ErrorLine, ShownOnce, money, text, when } from '../components/bits';
import { EntityForm, initialValues } from '../components/form';
import { Facts, JsonBlock } from '../components/facts';
import { PAGE_SIZE, usePaging } from '../components/paging';
import { type Column, Pager, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { href, navigate } from '../router';
import { isAdmin, type Session } from '../session';
import { mayManageTeam } from '../rights';
import { keyFields } from './key-form';
import { type KeyRow, StateBadge } from './keys';
import { TEAM_FIELDS } from './team-fields';
import type { TeamRow } from './teams';

interface Membership {
  user_id: string;
  spend?: number | null;
  litellm_budget_table?: { max_budget?: number | null } | null;
}

interface TeamInfo {
  team_info: TeamRow;
  team_memberships: Membership[];
}

interface MemberView {
  user_id: string;
  user_email: string | null;
  role: string;
  spend: number;
  budget: number | null;
}

function MemberAdd({ teamId, done }: { teamId: string; done: () => void }) {
  const [who, setWho] = useState('');
  const [role, setRole] = useState('user');
  const [budget, setBudget] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    const w = who.trim();
    if (!w) return setError('Give a user id or an email.');
    const b = budget.trim() === '' ? undefined : Number(budget);
    if (b !== undefined && !Number.isFinite(b)) return setError('Budget in team: not a number');
    try {
      const member = w.includes('@') ? { user_email: w, role } : { user_id: w, role };
      await api('/team/member_add', { body: { team_id: teamId, member, ...(b === undefined ? {} : { max_budget_in_team: b }) } });
      setWho('');
      setBudget('');
      done();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form class="toolbar" onSubmit={submit} aria-label="Add member">
      <label>
        User id or email
        <input name="member" value={who} onInput={(e) => setWho(e.currentTarget.value)} />
      </label>
      <label>
        Role
        <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
      </label>
      <label>
        Budget in team ($)
        <input name="max_budget_in_team" value={budget} onInput={(e) => setBudget(e.currentTarget.value)} />
      </label>
      <button type="submit">Add member</button>
      <ErrorLine error={error} />
    </form>
  );
}

/** The team's keys a page at a time (/team/info lists them all; a team may have thousands). */
function TeamKeys({ teamId, columns, version }: { teamId: string; columns: Column<KeyRow>[]; version: number }) {
  const paging = usePaging();
  const list = useLoad(
    (signal) => api<{ keys: KeyRow[]; total_count: number; total_pages: number }>('/key/list', { query: { team_id: teamId, page: paging.page, size: PAGE_SIZE, return_full_object: true }, signal }),
    [teamId, paging.page, version],
  );
  return (
    <>
      <ErrorLine error={list.error} />
      <Table testId="team-keys" columns={columns} rows={list.data?.keys ?? []} rowKey={(k) => k.token} empty={list.loading ? 'Loading…' : 'No keys.'} />
      <Pager page={paging.page} hasNext={paging.page < (list.data?.total_pages ?? 0)} total={list.data?.total_count} onPage={paging.setPage} />
    </>
  );
}

export function TeamDetail({ teamId, session }: { teamId: string; session: Session }) {
  const [editing, setEditing] = useState(false);
  const [makingKey, setMakingKey] = useState(false);
  const [made, setMade] = useState('');
  const [error, setError] = useState('');
  const [keysVersion, setKeysVersion] = useState(0);
  const info = useLoad((signal) => api<TeamInfo>('/team/info', { query: { team_id: teamId }, signal }), [teamId]);
  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    try {
      await fn();
      info.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  if (!info.data) return info.error ? <ErrorLine error={info.error} /> : <p class="loading">Loading…</p>;
  const t = info.data.team_info;
  const admin = isAdmin(session);
  const manage = mayManageTeam(session, t);
  const byUser = new Map(info.data.team_memberships.map((m) => [m.user_id, m]));
  const members: MemberView[] = (t.members_with_roles ?? []).map((m) => {
    const ms = m.user_id ? byUser.get(m.user_id) : undefined;
    return { user_id: m.user_id ?? '', user_email: m.user_email ?? null, role: m.role ?? 'user', spend: ms?.spend ?? 0, budget: ms?.litellm_budget_table?.max_budget ?? null };
  });
  const memberColumns: Column<MemberView>[] = [
    { title: 'User', cell: (m) => m.user_id || '—' },
    { title: 'Email', cell: (m) => m.user_email ?? '—' },
    {
      title: 'Role',
      cell: (m) =>
        manage ? (
          <select aria-label={`Role of ${m.user_id}`} value={m.role} onChange={(e) => act(() => api('/team/member_update', { body: { team_id: teamId, user_id: m.user_id, role: e.currentTarget.value } }))}>
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        ) : (
          m.role
        ),
    },
    { title: 'Spend in team', numeric: true, cell: (m) => money(m.spend) },
    {
      title: 'Budget in team',
      numeric: true,
      cell: (m) =>
        manage ? (
          <input
            class="narrow"
            aria-label={`Budget of ${m.user_id}`}
            placeholder="none"
            value={m.budget == null ? '' : String(m.budget)}
            onChange={(e) => {
              const v = e.currentTarget.value.trim();
              const n = Number(v);
              if (v === '' || !Number.isFinite(n)) return setError('Budget in team: give a number');
              void act(() => api('/team/member_update', { body: { team_id: teamId, user_id: m.user_id, max_budget_in_team: n } }));
            }}
          />
        ) : m.budget == null ? (
          '—'
        ) : (
          money(m.budget)
        ),
    },
  ];
  if (manage)
    memberColumns.push({
      title: '',
      cell: (m) => <ConfirmButton label="Remove" question={`Remove ${m.user_id || m.user_email} from the team?`} onConfirm={() => act(() => api('/team/member_delete', { body: { team_id: teamId, user_id: m.user_id } }))} />,
    });
  const keyColumns: Column<KeyRow>[] = [
    { title: 'Alias', cell: (k) => <a href={href('keys', k.token)}>{k.key_alias || '(no alias)'}</a> },
    { title: 'Key', cell: (k) => <code>{k.key_name ?? '—'}</code> },
    { title: 'User', cell: (k) => k.user_id ?? '—' },
    { title: 'Spend', numeric: true, cell: (k) => money(k.spend ?? 0) },
    { title: 'State', cell: (k) => <StateBadge blocked={k.blocked} expires={k.expires} /> },
  ];

  return (
    <section>
      <p>
        <a href={href('teams')}>‹ Teams</a>
      </p>
      <h1 data-testid="team-title">{t.team_alias || t.team_id}</h1>
      {admin && !editing && (
        <div class="actions-row">
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          {t.blocked ? (
            <button type="button" onClick={() => act(() => api('/team/unblock', { body: { team_id: teamId } }))}>
              Unblock
            </button>
          ) : (
            <ConfirmButton label="Block" question="Block this team? Its keys' calls are refused." onConfirm={() => act(() => api('/team/block', { body: { team_id: teamId } }))} />
          )}
          <ConfirmButton label="Delete" question="Delete this team and its keys?" onConfirm={() => act(async () => (await api('/team/delete', { body: { team_ids: [teamId] } }), navigate(href('teams'))))} />
        </div>
      )}
      <ErrorLine error={error} />
      {editing && (
        <EntityForm
          title="Edit team"
          fields={TEAM_FIELDS}
          before={initialValues(TEAM_FIELDS, t)}
          submitLabel="Save"
          onSubmit={async (body) => {
            if (Object.keys(body).length) await api('/team/update', { body: { ...body, team_id: teamId } });
            setEditing(false);
            info.reload();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      <Facts
        testId="team-facts"
        items={[
          ['Team id', <code>{t.team_id}</code>],
          ['State', t.blocked ? <span class="badge bad">blocked</span> : <span class="badge ok">active</span>],
          ['Organization', t.organization_id ? text(t.organization_id) : null],
          ['Spend', money(t.spend ?? 0)],
          ['Max budget', t.max_budget == null ? 'none' : money(t.max_budget)],
          ['Budget resets', t.budget_duration ? `every ${text(t.budget_duration)}, next ${when(t.budget_reset_at)}` : null],
          ['Requests / minute', text(t.rpm_limit ?? null)],
          ['Tokens / minute', text(t.tpm_limit ?? null)],
          ['Models', t.models?.length ? t.models.join(', ') : 'all'],
        ]}
      />
      <h2>Members</h2>
      {manage && <MemberAdd teamId={teamId} done={info.reload} />}
      <Table testId="team-members" columns={memberColumns} rows={members} rowKey={(m) => m.user_id || m.user_email || ''} empty="No members." />
      <h2>Keys</h2>
      {made && <ShownOnce value={made}>New team key: copy it now, it is not shown again.</ShownOnce>}
      {manage && !makingKey && (
        <div class="actions-row">
          <button type="button" onClick={() => (setMakingKey(true), setMade(''))}>
            Create key for this team
          </button>
        </div>
      )}
      {makingKey && (
        <EntityForm
          title="New team key"
          fields={keyFields(admin).filter((f) => f.name !== 'team_id')}
          submitLabel="Create"
          onSubmit={async (body) => {
            const r = await api<{ key: string }>('/key/generate', { body: { ...body, team_id: teamId } });
            setMakingKey(false);
            setMade(r.key);
            setKeysVersion((v) => v + 1);
          }}
          onCancel={() => setMakingKey(false)}
        />
      )}
      <TeamKeys teamId={teamId} columns={keyColumns} version={keysVersion} />
      <h2>Metadata</h2>
      <JsonBlock testId="team-metadata" value={t.metadata ?? {}} />
    </section>
  );
}
