// Models: the model groups and their deployments as /model/info shows them (provider model, API
// base, limits, prices, where it comes from) with their live state, a "Test" button that sends one
// short chat completion as the session, and adding, editing and deleting the models stored in the
// database (/model/new, /model/update, /model/delete). Models from the config file are read-only.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmButton, ErrorLine, text } from '../components/bits';
import { EntityForm, initialValues } from '../components/form';
import { type Column, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { isAdmin, seesAll } from '../session';
import { type Deployment, MODEL_FIELDS, formValuesOf, modelBody } from './model-form';
import { stateOf, useDeploymentStates } from './model-state';
import type { PageDef, PageProps } from './registry';

interface Loaded {
  deployments: Deployment[];
  /** /v1/models: the names clients may call (groups and visible aliases). */
  callable: string[];
}

/** $ per token as $ per million tokens, the way prices are read. */
function perMillion(v: unknown): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (v === null || v === undefined || !Number.isFinite(n)) return '—';
  return `$${(n * 1e6).toFixed(n * 1e6 < 1 ? 3 : 2)}`;
}

const price = (d: Deployment, k: string) => d.model_info[k] ?? d.litellm_params[k];

function TestResult({ result }: { result: { model: string; ok: boolean; text: string } | null }) {
  if (!result) return null;
  return (
    <p class={result.ok ? 'test-ok' : 'error'} role="status" data-testid="model-test-result">
      {result.model}: {result.text}
    </p>
  );
}

function Models({ session }: PageProps) {
  const admin = isAdmin(session);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [testing, setTesting] = useState('');
  const [result, setResult] = useState<{ model: string; ok: boolean; text: string } | null>(null);
  const states = useDeploymentStates(seesAll(session));
  const load = useLoad(async (signal): Promise<Loaded> => {
    const [info, models] = await Promise.all([
      api<{ data: Deployment[] }>('/model/info', { signal }),
      api<{ data: Array<{ id: string }> }>('/v1/models', { signal }),
    ]);
    return { deployments: info.data, callable: models.data.map((m) => m.id) };
  }, []);

  const test = async (model: string) => {
    setTesting(model);
    setResult(null);
    try {
      const r = await api<{ choices?: Array<{ message?: { content?: unknown } }> }>('/v1/chat/completions', {
        body: { model, messages: [{ role: 'user', content: 'Reply with one short sentence: are you there?' }], max_tokens: 32 },
        own401: true,
      });
      setResult({ model, ok: true, text: text(r.choices?.[0]?.message?.content ?? '(no text in the answer)') });
    } catch (e) {
      setResult({ model, ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setTesting('');
    }
  };
  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    try {
      await fn();
      load.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const deployments = load.data?.deployments ?? [];
  const groups = new Map<string, Deployment[]>();
  for (const d of deployments) {
    let l = groups.get(d.model_name);
    if (!l) groups.set(d.model_name, (l = []));
    l.push(d);
  }
  const aliases = (load.data?.callable ?? []).filter((n) => !groups.has(n));
  const groupRows = [...groups.entries()].map(([name, ds]) => ({ name, ds }));

  const groupColumns: Column<{ name: string; ds: Deployment[] }>[] = [
    { title: 'Model group', cell: (g) => <code>{g.name}</code> },
    { title: 'Deployments', numeric: true, cell: (g) => String(g.ds.length) },
    { title: 'Providers', cell: (g) => [...new Set(g.ds.map((d) => text(d.model_info.litellm_provider ?? '—')))].join(', ') },
    { title: 'Mode', cell: (g) => text(g.ds[0]?.model_info.mode ?? 'chat') },
    {
      title: 'State',
      cell: (g) => {
        if (!states) return '—';
        const cooled = g.ds.filter((d) => stateOf(states, g.name, d.model_info.id, d.litellm_params.model)?.cooldown).length;
        return cooled === 0 ? <span class="badge ok">healthy</span> : cooled === g.ds.length ? <span class="badge bad">cooling down</span> : <span class="badge warn">{`${cooled} of ${g.ds.length} cooling down`}</span>;
      },
    },
    {
      title: '',
      cell: (g) => (
        <button type="button" disabled={testing !== ''} onClick={() => test(g.name)} aria-label={`Test ${g.name}`}>
          {testing === g.name ? 'Testing…' : 'Test'}
        </button>
      ),
    },
  ];

  const depColumns: Column<Deployment>[] = [
    { title: 'Group', cell: (d) => <code>{d.model_name}</code> },
    { title: 'Provider model', cell: (d) => text(d.litellm_params.model ?? '—') },
    { title: 'API base', cell: (d) => text(d.litellm_params.api_base ?? '—') },
    { title: 'RPM', numeric: true, cell: (d) => text(d.litellm_params.rpm ?? null) },
    { title: 'TPM', numeric: true, cell: (d) => text(d.litellm_params.tpm ?? null) },
    { title: 'Input / 1M', numeric: true, cell: (d) => perMillion(price(d, 'input_cost_per_token')) },
    { title: 'Output / 1M', numeric: true, cell: (d) => perMillion(price(d, 'output_cost_per_token')) },
    { title: 'Max tokens', numeric: true, cell: (d) => text(d.model_info.max_tokens ?? d.model_info.max_input_tokens ?? null) },
    { title: 'Source', cell: (d) => (d.model_info.db_model ? 'database' : <span class="muted">config file</span>) },
  ];
  if (states)
    depColumns.push({
      title: 'State',
      cell: (d) => {
        const s = stateOf(states, d.model_name, d.model_info.id, d.litellm_params.model);
        if (!s) return '—';
        return (
          <span>
            {s.cooldown ? <span class="badge bad">cooldown</span> : <span class="badge ok">healthy</span>} {s.in_flight ? `${s.in_flight} in flight` : ''}
          </span>
        );
      },
    });
  if (admin)
    depColumns.push({
      title: '',
      cell: (d) =>
        d.model_info.db_model && d.model_info.id ? (
          <span class="confirm">
            <button type="button" onClick={() => (setEditing(d.model_info.id!), setAdding(false))}>
              Edit
            </button>
            <ConfirmButton label="Delete" question={`Delete ${d.model_name}?`} onConfirm={() => act(() => api('/model/delete', { body: { id: d.model_info.id } }))} />
          </span>
        ) : (
          <span class="muted" title="Defined in the config file: change it there">read-only</span>
        ),
    });

  const edited = editing ? deployments.find((d) => d.model_info.id === editing) : undefined;
  return (
    <section>
      <h1>Models</h1>
      <div class="toolbar">
        <span class="spacer" />
        {admin && !adding && (
          <button type="button" class="primary" onClick={() => (setAdding(true), setEditing(null))}>
            Add model
          </button>
        )}
      </div>
      {adding && (
        <EntityForm
          title="New model"
          fields={MODEL_FIELDS}
          submitLabel="Add"
          onSubmit={async (body) => {
            await api('/model/new', { body: modelBody(body) });
            setAdding(false);
            load.reload();
          }}
          onCancel={() => setAdding(false)}
        />
      )}
      {edited && (
        <EntityForm
          key={editing!}
          title={`Edit ${edited.model_name}`}
          fields={MODEL_FIELDS}
          before={initialValues(MODEL_FIELDS, formValuesOf(edited))}
          submitLabel="Save"
          onSubmit={async (body) => {
            await api('/model/update', { body: modelBody(body, editing!) });
            setEditing(null);
            load.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <ErrorLine error={load.error || error} />
      <TestResult result={result} />
      <h2>Model groups</h2>
      <Table testId="model-groups" columns={groupColumns} rows={groupRows} rowKey={(g) => g.name} empty={load.loading ? 'Loading…' : 'No models.'} />
      {aliases.length > 0 && <p class="muted">Aliases: {aliases.join(', ')}</p>}
      <h2>Deployments</h2>
      <Table testId="deployments" columns={depColumns} rows={deployments} rowKey={(d) => d.model_info.id ?? `${d.model_name}:${text(d.litellm_params.model)}`} empty={load.loading ? 'Loading…' : 'No deployments.'} />
    </section>
  );
}

export const modelsPage: PageDef = { id: 'models', title: 'Models', component: Models };
