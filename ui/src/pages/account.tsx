// Who is logged in: the identity, its role and teams, and the way out.
import type { PageDef, PageProps } from './registry';

function Account({ session }: PageProps) {
  return (
    <section>
      <h1>Account</h1>
      <dl class="facts">
        <dt>User</dt>
        <dd data-testid="account-user">{session.user_id ?? '(master key)'}</dd>
        <dt>Role</dt>
        <dd data-testid="account-role">{session.user_role}</dd>
        <dt>Teams</dt>
        <dd>{session.team_ids.length ? session.team_ids.join(', ') : '—'}</dd>
        <dt>Session ends</dt>
        <dd>{session.expires_at ? new Date(session.expires_at).toLocaleString() : '—'}</dd>
      </dl>
    </section>
  );
}

export const accountPage: PageDef = { id: 'account', title: 'Account', component: Account };
