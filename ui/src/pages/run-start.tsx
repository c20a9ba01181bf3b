// Starting a run from the page: a job (its prompt from the job, an optional input object) or a
// profile with a prompt. The API checks everything again; its refusal shows as it said it.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorLine } from '../components/bits';
import { useLoad } from '../components/use-load';
import type { Job, List, Profile, Run } from './run-types';

export function StartRun({ jobs, onStarted }: { jobs: Job[]; onStarted: (r: Run) => void }) {
  const profiles = useLoad((signal) => api<List<Profile>>('/v1/agent/profiles', { signal }), []);
  const [mode, setMode] = useState<'job' | 'profile'>('profile');
  const [job, setJob] = useState('');
  const [profile, setProfile] = useState('');
  const [prompt, setPrompt] = useState('');
  const [input, setInput] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // What the form would send: until the lists it picks from have loaded there is nothing to send,
  // and a click then would only earn the API's "give a job or a profile" refusal.
  const jobName = job || jobs[0]?.name;
  const profileName = profile || profiles.data?.data[0]?.name;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    let body: Record<string, unknown>;
    if (mode === 'job') {
      body = { job: jobName };
      if (input.trim()) {
        try {
          body.input = JSON.parse(input);
        } catch {
          setError('Input must be a JSON object.');
          return;
        }
      }
      if (prompt.trim()) body.prompt = prompt;
    } else {
      body = { profile: profileName, prompt };
    }
    setBusy(true);
    try {
      onStarted(await api<Run>('/v1/agent/runs', { body }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} aria-label="Start a run">
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'profile'} onClick={() => setMode('profile')}>
          Profile and prompt
        </button>
        <button type="button" role="tab" aria-selected={mode === 'job'} disabled={!jobs.length} onClick={() => setMode('job')}>
          Job
        </button>
      </div>
      {mode === 'job' ? (
        <>
          <label>
            Job
            <select name="job" value={job} onChange={(e) => setJob(e.currentTarget.value)}>
              {jobs.map((j) => (
                <option key={j.name} value={j.name}>
                  {j.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Input (JSON object, optional)
            <textarea name="input" rows={2} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
          </label>
          <label>
            Prompt (optional: the job's otherwise)
            <textarea name="prompt" rows={2} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />
          </label>
        </>
      ) : (
        <>
          <label>
            Profile
            <select name="profile" value={profile} onChange={(e) => setProfile(e.currentTarget.value)}>
              {(profiles.data?.data ?? []).map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name} ({p.agent})
                </option>
              ))}
            </select>
          </label>
          <label>
            Prompt
            <textarea name="prompt" rows={2} required value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />
          </label>
        </>
      )}
      <ErrorLine error={error || profiles.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !(mode === 'job' ? jobName : profileName)}>
          Start run
        </button>
      </div>
    </form>
  );
}
