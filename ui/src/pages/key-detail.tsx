// One key: its spend, limits, expiry and metadata, and what the session may do with it — edit,
// block / unblock, regenerate (the new key shown once; the old one stops working) and delete.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmButton, ErrorLine, ShownOnce, money, text, when } from '../components/bits';
import { EntityForm, initialValues } from '../components/form';
import { Facts, JsonBlock } from '../components/facts';
import { useLoad } from '../components/use-load';
import { href, navigate } from '../router';
import { isAdmin, type Session } from '../session';
import { isTeamAdmin, mayChangeKey } from '../rights';
import { keyFields } from './key-form';
import { type KeyRow, StateBadge } from './keys';

interface KeyInfo {
  info: KeyRow & { litellm_budget_table?: Record<string, unknown> | null };
}

/** A regenerated key, carried to the page of its new token (the route changes with the token). */
let carried: { token: string; key: string } | null = null;

function takeCarried(token: string): string {
  const c = carried;
  carried = null;
  return c && c.token === token ? c.key : '';
}

export function KeyDetail({ token, session }: { token: string; session: Session }) {
  const [editing, setEditing] = useState(false);
  const [regenerated] = useState(() => takeCarried(token));
  const [error, setError] = useState('');
  const key = useLoad(async (signal) => {
    const k = (await api<KeyInfo>('/key/info', { query: { key: token }, signal })).info;
    // A team admin manages the team's keys: read the team to know (the session's own teams only).
    let teamAdmin = false;
    if (!isAdmin(session) && k.team_id && session.team_ids.includes(k.team_id)) {
      const t = await api<{ team_info: { members_with_roles?: unknown } }>('/team/info', { query: { team_id: k.team_id }, signal }).catch(() => null);
      teamAdmin = isTeamAdmin(session, t?.team_info);
    }
    return { k, teamAdmin };
  }, [token]);

  const act = async (fn: () => Promise<void>) => {
    setError('');
    try {
      await fn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  if (!key.data) return key.error ? <ErrorLine error={key.error} /> : <p class="loading">Loading…</p>;
  const { k, teamAdmin } = key.data;
  const may = mayChangeKey(session, k, teamAdmin);
  const fields = keyFields(isAdmin(session));
  const meta = (k.metadata ?? {}) as Record<string, unknown>;
  return (
    <section>
      <p>
        <a href={href('keys')}>‹ Keys</a>
      </p>
      <h1 data-testid="key-title">{k.key_alias || k.key_name || 'Key'}</h1>
      {regenerated && <ShownOnce value={regenerated}>The regenerated key: copy it now, it is not shown again. The old key no longer works.</ShownOnce>}
      {may && !editing && (
        <div class="actions-row">
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          {k.blocked ? (
            <button type="button" onClick={() => act(async () => (await api('/key/unblock', { body: { key: token } }), key.reload()))}>
              Unblock
            </button>
          ) : (
            <ConfirmButton label="Block" question="Block this key? Its calls are refused until unblocked." onConfirm={() => act(async () => (await api('/key/block', { body: { key: token } }), key.reload()))} />
          )}
          <ConfirmButton
            label="Regenerate"
            question="Replace this key with a new one?"
            onConfirm={() =>
              act(async () => {
                const r = await api<{ key: string; token: string }>('/key/regenerate', { body: { key: token } });
                carried = { token: r.token, key: r.key };
                navigate(href('keys', r.token));
              })
            }
          />
          <ConfirmButton label="Delete" question="Delete this key for good?" onConfirm={() => act(async () => (await api('/key/delete', { body: { keys: [token] } }), navigate(href('keys'))))} />
        </div>
      )}
      <ErrorLine error={error} />
      {editing && (
        <EntityForm
          title="Edit key"
          fields={fields}
          before={initialValues(fields, k)}
          submitLabel="Save"
          onSubmit={async (body) => {
            if (Object.keys(body).length) await api('/key/update', { body: { ...body, key: token } });
            setEditing(false);
            key.reload();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      <Facts
        testId="key-facts"
        items={[
          ['State', <StateBadge blocked={k.blocked} expires={k.expires} />],
          ['Key', <code>{k.key_name ?? '—'}</code>],
          ['Alias', k.key_alias],
          ['User', k.user_id],
          ['Team', k.team_id ? <a href={href('teams', k.team_id)}>{k.team_id}</a> : null],
          ['Spend', money(k.spend ?? 0)],
          ['Max budget', k.max_budget == null ? 'none' : money(k.max_budget)],
          ['Budget resets', k.budget_duration ? `every ${text(k.budget_duration)}, next ${when(k.budget_reset_at)}` : null],
          ['Soft budget', k.litellm_budget_table?.soft_budget == null ? null : money(k.litellm_budget_table.soft_budget)],
          ['Requests / minute', text(k.rpm_limit ?? null)],
          ['Tokens / minute', text(k.tpm_limit ?? null)],
          ['Parallel requests', text(k.max_parallel_requests ?? null)],
          ['Models', k.models && k.models.length ? k.models.join(', ') : 'all'],
          ['Expires', k.expires ? when(k.expires) : 'never'],
          ['Created', `${when(k.created_at)}${k.created_by ? ` by ${text(k.created_by)}` : ''}`],
          ['Last rotated', k.last_rotation_at ? when(k.last_rotation_at) : null],
        ]}
      />
      <h2>Metadata</h2>
      <JsonBlock testId="key-metadata" value={meta} />
    </section>
  );
}
