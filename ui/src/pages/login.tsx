// The login form: a username and password (UI_USERNAME/UI_PASSWORD, "admin" and the master key, or
// a user's own password), or a virtual key.
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { type Credentials, login, type Session } from '../session';

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [mode, setMode] = useState<'password' | 'key'>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    const creds: Credentials = mode === 'key' ? { key } : { username, password };
    try {
      onLogin(await login(creds));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit} aria-label="Log in">
        <h1>Weir</h1>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'password'} onClick={() => setMode('password')}>
            Username
          </button>
          <button type="button" role="tab" aria-selected={mode === 'key'} onClick={() => setMode('key')}>
            Virtual key
          </button>
        </div>
        {mode === 'password' ? (
          <>
            <label>
              Username
              <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
            </label>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
            </label>
          </>
        ) : (
          <label>
            Key
            <input name="key" type="password" autocomplete="off" placeholder="sk-…" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
