// Agent runs: the jobs with their next fire times, a form to start a run, and the runs (newest first,
// paged on the server, filtered by job and state) each opening its own page (run-detail.tsx).
// Hidden when the server has no agent runs configured (the API answers 503).
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { ErrorLine, money, when } from '../components/bits';
import { StatusBadge } from '../components/status-badge';
import { type Column, Pager, Table } from '../components/table';
import { useLoad } from '../components/use-load';
import { href, navigate } from '../router';
import { canWrite } from '../session';
import type { PageDef, PageProps } from './registry';
import { RunDetail } from './run-detail';
import { StartRun } from './run-start';
import { type Job, type List, type Run, STATUSES, statusTone } from './run-types';

const PAGE_SIZE = 25;

const RUN_COLUMNS: Column<Run>[] = [
  { title: 'Run', cell: (r) => <a href={href('runs', r.id)} class="mono">{r.id}</a> },
  { title: 'State', cell: (r) => <StatusBadge status={r.status} tone={statusTone(r.status)} /> },
  { title: 'Job / profile', cell: (r) => r.job ?? r.profile },
  { title: 'Agent', cell: (r) => `${r.agent}${r.model ? ` · ${r.model}` : ''}` },
  { title: 'Trigger', cell: (r) => (r.attempt > 1 ? `${r.trigger} (attempt ${r.attempt})` : r.trigger) },
  { title: 'Queued', cell: (r) => when(r.queued_at) },
  { title: 'Finished', cell: (r) => when(r.finished_at) },
  { title: 'Cost', numeric: true, cell: (r) => (r.cost === null ? '—' : money(r.cost)) },
];

function NextFires({ job }: { job: Job }) {
  const next = useLoad((signal) => api<{ data: string[] }>(`/v1/agent/jobs/${encodeURIComponent(job.name)}/next-runs`, { query: { n: 3 }, signal }), [job.name]);
  if (next.error) return <span class="error">{next.error}</span>;
  return <span>{next.data ? next.data.data.map((d) => when(d)).join(' · ') || '—' : '…'}</span>;
}

const JOB_COLUMNS: Column<Job>[] = [
  { title: 'Job', cell: (j) => j.name },
  { title: 'Profile', cell: (j) => j.profile },
  { title: 'Schedule', cell: (j) => (j.schedule ? <span class="mono">{`${j.schedule.cron}${j.schedule.timezone ? ` (${j.schedule.timezone})` : ''}`}</span> : '—') },
  { title: 'Next fires', cell: (j) => (j.schedule && j.enabled ? <NextFires job={j} /> : '—') },
  { title: 'Webhook', cell: (j) => (j.webhook ? 'yes' : '—') },
  { title: 'State', cell: (j) => (j.enabled ? <span class="badge ok">enabled</span> : <span class="badge">disabled</span>) },
];

function RunList({ session }: PageProps) {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState('');
  const [job, setJob] = useState('');
  const jobs = useLoad((signal) => api<List<Job>>('/v1/agent/jobs', { signal }), []);
  const runs = useLoad(
    (signal) => api<List<Run>>('/v1/agent/runs', { query: { limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE, status, job }, signal }),
    [page, status, job],
  );
  const rows = runs.data?.data ?? [];

  return (
    <section>
      <h1>Agent runs</h1>
      <h2>Jobs</h2>
      <ErrorLine error={jobs.error} />
      <Table testId="jobs" columns={JOB_COLUMNS} rows={jobs.data?.data ?? []} rowKey={(j) => j.name} empty="No jobs." />
      {canWrite(session) && <StartRun jobs={jobs.data?.data ?? []} onStarted={(r) => navigate(href('runs', r.id))} />}
      <h2>Runs</h2>
      <div class="toolbar">
        <label>
          State
          <select name="status" value={status} onChange={(e) => { setStatus(e.currentTarget.value); setPage(1); }}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Job
          <select name="job" value={job} onChange={(e) => { setJob(e.currentTarget.value); setPage(1); }}>
            <option value="">any</option>
            {(jobs.data?.data ?? []).map((j) => (
              <option key={j.name} value={j.name}>
                {j.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={runs.reload}>
          Refresh
        </button>
      </div>
      <ErrorLine error={runs.error} />
      <Table testId="runs" columns={RUN_COLUMNS} rows={rows.slice(0, PAGE_SIZE)} rowKey={(r) => r.id} onRow={(r) => navigate(href('runs', r.id))} empty={runs.loading ? 'Loading…' : 'No runs.'} />
      <Pager page={page} hasNext={rows.length > PAGE_SIZE} onPage={setPage} />
    </section>
  );
}

function Runs(props: PageProps) {
  const id = props.route.rest[0];
  return id ? <RunDetail key={id} id={id} session={props.session} /> : <RunList {...props} />;
}

/** Runs exist when the agents API answers (503: no database, so no runs). */
async function available(): Promise<boolean> {
  try {
    await api('/v1/agent/runs', { query: { limit: 1 } });
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 503);
  }
}

export const runsPage: PageDef = { id: 'runs', title: 'Agent runs', component: Runs, available };
