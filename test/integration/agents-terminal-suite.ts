// A session's live terminal (`weir attach`, the WebSocket at /v1/agent/sessions/{id}/attach)
// through the real gateway, on the sandbox provider and HTTP engine the calling file names
// (agents-terminal.test.ts: local on uWebSockets.js; -e2b, -daytona: the real SDKs' PTY APIs
// against their fakes; -node: the node:http engine): keystrokes in, output out; detach leaves it
// running and attaching again replays and goes on; `weir attach` itself; the terminal takes the
// viewer's window size at attach and follows its resizes (the last one given wins); the session's
// end closes it, blocks its key and leaves no sandbox; every refusal says why.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import WebSocket from 'ws';
import { startCloud, type ProviderName, type TestCloud } from '../support/cloud-fakes';
import { CLI } from '../support/gateway-process';
import type { MockUpstream } from '../support/mock-upstream';
import { agentConfig } from './agent-runs-helpers';
import { MASTER_KEY, adminOk, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';

export type EngineName = 'uws' | 'node';

/**
 * A cloud's API calls end well inside seen()'s 30 s: a call that stalls fails the start with Weir's
 * "could not start" line and the viewer's message, which a test then shows, instead of a silent wait.
 */
const CALL_LIMITS: Partial<Record<ProviderName, Record<string, string>>> = {
  e2b: { request_timeout: '10s', create_timeout: '20s' },
  daytona: { request_timeout: '10s', create_timeout: '20s' },
};

export function terminalSuite(provider: ProviderName, engine: EngineName): void {
  let mock: MockUpstream;
  let weir: Weir;
  let pool: Pool;
  let cloud: TestCloud;

  before(async () => {
    mock = await startMock();
    cloud = await startCloud(provider);
    const db = await ledgerDatabase(`agents_terminal_${provider}_${engine}`);
    pool = dbPool(db);
    const term = { name: 'term', agent: 'command', sandbox: 'dev', model: 'gpt', timeout: '120s', command: ['sh', '-c', 'echo ready; while IFS= read -r l; do if [ "$l" = size ]; then echo "size:$(stty size)"; else echo "got:$l"; fi; done'] };
    const config = agentConfig(mock.url, db, { profiles: `    - ${JSON.stringify(term)}\n`, sandboxes: `    - ${cloud.sandbox('dev', CALL_LIMITS[provider])}\n` });
    weir = await startWeirOn(writeConfigFile(config), engine === 'node' ? { workers: 1, env: { WEIR_HTTP_ENGINE: 'node' } } : {});
    if (engine === 'node') assert.match(weir.output(), /node:http/);
  });

  after(() =>
    closeAndCheckLedgers(
      async () => {
        // Every terminal ended with its session: nothing of theirs runs at the provider.
        try {
        await waitFor(`${provider} sandboxes to be gone`, async () => (cloud.live() === 0 ? true : null), 30_000, 50);
      } finally {
        await weir.stop();
      }
      },
      async () => pool.end(),
      () => mock.close(),
      () => cloud.close(),
    ),
  );

  async function newSession(key = MASTER_KEY): Promise<{ id: string }> {
    const r = await call(weir.url, '/v1/agent/sessions', { headers: bearer(key), body: { profile: 'term' } });
    assert.equal(r.status, 201, r.text);
    return r.json;
  }

  interface Viewer {
    ws: WebSocket;
    /** What the terminal printed (binary frames), as text. */
    text: () => string;
    /** Weir's control messages to this viewer (text frames), parsed. */
    controls: () => Array<Record<string, any>>;
    closed: Promise<{ code: number; reason: string }>;
    /** The close code and reason once the socket has closed, else null. */
    closedWith: () => { code: number; reason: string } | null;
    /** The headers of the upgrade's 101 answer. */
    headers: http.IncomingHttpHeaders;
  }

  /** A WebSocket to a session's terminal (`query`: e.g. `?cols=100&rows=30`). */
  function attach(id: string, key = MASTER_KEY, query = '', onOpen?: (ws: WebSocket) => void): Promise<Viewer | { status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${weir.url.replace(/^http/, 'ws')}/v1/agent/sessions/${id}/attach${query}`, { headers: bearer(key) });
      let got = '';
      let headers: http.IncomingHttpHeaders = {};
      ws.on('upgrade', (res) => (headers = res.headers));
      const controls: Array<Record<string, any>> = [];
      let closedWith: { code: number; reason: string } | null = null;
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r((closedWith = { code, reason: reason.toString() }))));
      ws.on('message', (d, binary) => {
        if (binary) got += Buffer.from(d as Buffer).toString('utf8');
        else controls.push(JSON.parse(Buffer.from(d as Buffer).toString('utf8')));
      });
      ws.on('open', () => {
        onOpen?.(ws);
        resolve({ ws, text: () => got, controls: () => controls, closed, closedWith: () => closedWith, headers });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('error', reject);
    });
  }

  async function attached(id: string, key = MASTER_KEY, query = '', onOpen?: (ws: WebSocket) => void) {
    const a = await attach(id, key, query, onOpen);
    if ('status' in a) assert.fail(`attach refused: ${a.status} ${a.body}`);
    return a;
  }

  /** Waits for `what` in the terminal's output; a viewer closed without it fails at once, with its close code. */
  async function seen(a: { text: () => string; closedWith?: Viewer['closedWith'] }, what: string): Promise<void> {
    let shut: { code: number; reason: string } | null = null;
    await waitFor(`terminal output "${what}"`, () => a.text().includes(what) || ((shut = a.closedWith?.() ?? null) ? true : null), 30_000)
      .then(() => {
        if (!a.text().includes(what)) throw new Error(`the viewer was closed (${shut!.code} ${shut!.reason}) before "${what}"`);
      })
      .catch((e: Error) => {
        throw new Error(`${e.message}\n--- received\n${a.text().slice(-2000)}\n--- gateway\n${weir.output().slice(-3000)}`);
      });
  }

  /** Every `stty size` answer ("ROWS COLS") the viewer has seen, in order. */
  const sizes = (a: Viewer) => [...a.text().matchAll(/size:(\d+ \d+)/g)].map((m) => m[1]!);

  /** Runs `stty size` in the terminal (a binary frame: keystrokes) and returns its answer. */
  async function askSize(a: Viewer): Promise<string> {
    const before = sizes(a).length;
    a.ws.send(Buffer.from('size\r'));
    await waitFor('an answer from stty size', () => sizes(a).length > before || null, 30_000);
    return sizes(a).at(-1)!;
  }

  /**
   * Asks `stty size` until it says `want`: a resize reaches the PTY on a path of its own (the
   * provider's API, the local sandbox's size FIFO), not in line with the keystrokes after it.
   */
  async function sizeBecomes(a: Viewer, want: string): Promise<void> {
    const seenSizes: string[] = [];
    for (let i = 0; i < 50; i++) {
      seenSizes.push(await askSize(a));
      if (seenSizes.at(-1) === want) return;
    }
    assert.fail(`the terminal never became ${want} (stty size said ${seenSizes.join(', ')})`);
  }

  const resize = (a: Viewer, cols: unknown, rows: unknown) => a.ws.send(JSON.stringify({ type: 'resize', cols, rows }));

  const terminalKey = (sessionId: string) => one(pool, `SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias LIKE $1`, [`weir-run-${sessionId}-t%`]);

  describe(`the live terminal on ${provider} sandboxes (${engine === 'node' ? 'node:http' : 'uWebSockets.js'})`, () => {
    it('keystrokes in, output out over a WebSocket; detach leaves it running, attach again replays and goes on', async () => {
      const s = await newSession();
      const first = await attached(s.id);
      await seen(first, 'ready');
      first.ws.send('hello\r');
      await seen(first, 'got:hello');
      first.ws.close();
      await first.closed;

      const second = await attached(s.id);
      await seen(second, 'got:hello'); // what it printed while detached-from is replayed
      second.ws.send('again\r');
      await seen(second, 'got:again');
      // `weir attach` itself, alongside: keystrokes from its standard input, Ctrl-] detaches.
      const cli = spawn(process.execPath, [CLI, 'attach', s.id, '--url', weir.url, '--key', MASTER_KEY], { stdio: ['pipe', 'pipe', 'pipe'] });
      let cliOut = '';
      let cliErr = '';
      cli.stdout.on('data', (d: Buffer) => (cliOut += d.toString()));
      cli.stderr.on('data', (d: Buffer) => (cliErr += d.toString()));
      const cliExit = new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
      await seen({ text: () => cliOut }, 'got:again'); // replayed
      cli.stdin.write('from-cli\r');
      await seen({ text: () => cliOut }, 'got:from-cli');
      await seen(second, 'got:from-cli'); // every viewer sees the same terminal
      cli.stdin.write('\x1d');
      assert.equal(await cliExit, 0, cliErr);
      assert.match(cliErr, /detached; the agent goes on/);
      // The agent in it runs on a key of its own, blocked when the session ends.
      assert.notEqual((await terminalKey(s.id)).blocked, true);
      if (cloud.fake) assert.equal(cloud.live(), 1, 'the terminal has a sandbox of its own');
      const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
      assert.equal(del.status, 200, del.text);
      const end = await second.closed;
      assert.equal(end.code, 1000);
      assert.match(second.text(), /the session ended/);
      await waitFor('the terminal key blocked', async () => (await terminalKey(s.id)).blocked || null, 30_000);
      await waitFor(`the terminal's ${provider} sandbox gone`, () => (cloud.live() === 0 ? true : null), 30_000);
    });

    it("the terminal takes the viewer's size at attach and follows its resizes; the last one wins; a bad resize is answered and changes nothing", async () => {
      const s = await newSession();
      const a = await attached(s.id, MASTER_KEY, '?cols=100&rows=30');
      await seen(a, 'ready');
      assert.equal(await askSize(a), '30 100', 'the PTY starts at the size given at attach');
      resize(a, 132, 50);
      await sizeBecomes(a, '50 132');
      // A second viewer with a window of its own: the size last given is the terminal's, for all.
      const b = await attached(s.id, MASTER_KEY, '?cols=90&rows=20');
      await sizeBecomes(b, '20 90');
      resize(a, 110, 35);
      await sizeBecomes(b, '35 110');
      // Bad control messages: each answered with an error frame, the viewer stays, the size stays.
      const bad: Array<[unknown, string, RegExp]> = [
        [{ type: 'resize', cols: 0, rows: 10 }, 'cols', /"cols" must be an integer from 1 to 1000/],
        [{ type: 'resize', cols: 80, rows: 1001 }, 'rows', /"rows" must be an integer from 1 to 1000/],
        [{ type: 'resize', cols: '80', rows: 24 }, 'cols', /"cols" must be an integer/],
        [{ type: 'resize', cols: 80 }, 'rows', /"rows" must be an integer/],
        [{ type: 'paste', text: 'x' }, 'type', /unknown control message type "paste"/],
      ];
      for (const [msg] of bad) a.ws.send(JSON.stringify(msg));
      await waitFor('an answer to each bad control message', () => a.controls().length >= bad.length || null, 30_000);
      assert.equal(a.controls().length, bad.length, JSON.stringify(a.controls()));
      bad.forEach(([, param, message], i) => {
        const c = a.controls()[i]!;
        assert.equal(c.type, 'error', JSON.stringify(c));
        assert.equal(c.error.type, 'invalid_request_error');
        assert.equal(c.error.param, param);
        assert.match(c.error.message, message);
      });
      assert.equal(b.controls().length, 0, 'errors go to the viewer that sent the message only');
      // A text frame that is no control message is typed, as clients before resize sent keystrokes.
      a.ws.send('after\r');
      await seen(a, 'got:after');
      assert.equal(await askSize(a), '35 110');
      const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
      assert.equal(del.status, 200, del.text);
      await a.closed;
      await b.closed;
    });

    it('keystrokes sent the moment the socket opens (before the viewer is attached on the control thread) are typed, in order; the upgrade says resize frames are taken', async () => {
      const s = await newSession();
      const first = await attached(s.id);
      await seen(first, 'ready');
      assert.equal(first.headers['x-weir-terminal-controls'], 'resize', 'weir attach sends resize frames only to a Weir that says it takes them');
      const second = await attached(s.id, MASTER_KEY, '?cols=90&rows=20', (ws) => {
        ws.send(Buffer.from('ear'));
        ws.send(JSON.stringify({ type: 'resize', cols: 91, rows: 21 }));
        ws.send(Buffer.from('ly\r'));
      });
      await seen(first, 'got:early');
      await seen(second, 'got:early');
      await sizeBecomes(second, '21 91');
      const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
      assert.equal(del.status, 200, del.text);
      await first.closed;
      await second.closed;
    });

    it("keystrokes the first viewer of a new terminal types while its sandbox and agent start (before the PTY opens) reach the agent, in order", async () => {
      const s = await newSession();
      // Sent the moment the socket opens: the viewer is attached a few round trips later, long
      // before the terminal's sandbox, key and PTY exist.
      const lines = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const a = await attached(s.id, MASTER_KEY, '', (ws) => {
        for (const l of lines) ws.send(Buffer.from(`${l}\r`));
      });
      await seen(a, `got:${lines.at(-1)}`);
      const got = [...a.text().matchAll(/got:(k\d+)/g)].map((m) => m[1]!);
      assert.deepEqual(got, lines, 'every line typed early reaches the agent once, in order');
      const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
      assert.equal(del.status, 200, del.text);
      await a.closed;
    });

    it('keystrokes past what a starting terminal keeps are dropped, and the viewer who typed them is told', async () => {
      const s = await newSession();
      // 12 frames of 60 KB on open: past the 256 K kept before the viewer is attached, or past the
      // 256 KB kept until the PTY opens, whichever of the two the frames reach.
      const a = await attached(s.id, MASTER_KEY, '', (ws) => {
        for (let i = 0; i < 12; i++) ws.send(Buffer.alloc(60 * 1024, 'x'));
      });
      await seen(a, '[weir: input dropped: ');
      const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
      assert.equal(del.status, 200, del.text);
      await a.closed;
    });

    if (provider !== 'local') {
      it('a sandbox that dies under the terminal ends it, and its viewers are told', async () => {
        const s = await newSession();
        const a = await attached(s.id);
        await seen(a, 'ready');
        const m = cloud.fake!.machines.live().find((x) => x.labels.weir_session_id === s.id);
        assert.ok(m, 'the terminal runs on a machine labelled with its session');
        cloud.fake!.killMachine(m.id);
        const end = await a.closed;
        assert.equal(end.code, 1000);
        assert.match(a.text(), /the sandbox stopped/);
        await waitFor('the terminal key blocked', async () => (await terminalKey(s.id)).blocked || null, 30_000);
        await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
      });

      it("the sweeper keeps a terminal's machine while its session is active, and kills it once the session ended", async () => {
        const s = await newSession();
        const a = await attached(s.id);
        await seen(a, 'ready');
        const fake = cloud.fake!;
        const term = fake.machines.live().find((x) => x.labels.weir_session_id === s.id)!;
        const install = (await one(pool, `SELECT spec->>'value' AS v FROM "Weir_AgentDefinition" WHERE id = 'secret_installation'`)).v;
        // Listed after the terminal's machine: once the sweep at start killed it, it has judged the terminal's.
        const stray = () => fake.machines.make('stray', 'base', { weir_install: install, weir_run_id: 'run_000000000000000000000000' }, {}, 60_000);
        const restart = async (signal: NodeJS.Signals) => {
          await weir.stop(signal);
          weir = await startWeirOn(weir.configPath, engine === 'node' ? { workers: 1, env: { WEIR_HTTP_ENGINE: 'node' } } : {});
        };
        const first = stray();
        await restart('SIGKILL'); // the terminal is gone with its Weir; its session is still active
        await waitFor('the stray machine swept', () => (fake.machines.get(first.id) ? null : true), 30_000);
        assert.ok(fake.machines.get(term.id), 'the machine of an active session\'s terminal is kept');
        const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
        assert.equal(del.status, 200, del.text);
        const second = stray();
        await restart('SIGTERM');
        await waitFor('the stray machine swept', () => (fake.machines.get(second.id) ? null : true), 30_000);
        assert.equal(fake.machines.get(term.id), undefined, 'the machine of an ended session\'s terminal is swept');
      });
    }

    it("attach to someone else's session, an unknown or ended session, or without an upgrade: refused with the reason", async () => {
      await adminOk(weir.url, '/team/new', { team_id: 'term-a' });
      await adminOk(weir.url, '/team/new', { team_id: 'term-b' });
      const keyA = (await adminOk(weir.url, '/key/generate', { team_id: 'term-a' })).key;
      const keyB = (await adminOk(weir.url, '/key/generate', { team_id: 'term-b' })).key;
      const s = await newSession(keyA);
      const other = await attach(s.id, keyB);
      assert.ok('status' in other && other.status === 404, JSON.stringify(other));
      const unknown = await attach('ses_nope');
      assert.ok('status' in unknown && unknown.status === 404 && /unknown session/.test(unknown.body), JSON.stringify(unknown));
      const noKey = await attach(s.id, 'sk-not-a-key');
      assert.ok('status' in noKey && noKey.status === 401, JSON.stringify(noKey));
      const plain = await call(weir.url, `/v1/agent/sessions/${s.id}/attach`, { headers: bearer(keyA), method: 'GET' });
      assert.equal(plain.status, 426, plain.text);
      assert.equal(plain.json.error.type, 'upgrade_required');
      // Upgrade: websocket without Connection: Upgrade is no handshake either.
      const half = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = http.get(`${weir.url}/v1/agent/sessions/${s.id}/attach`, { headers: { ...bearer(keyA), upgrade: 'websocket' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        r.on('error', reject);
      });
      assert.equal(half.status, 426, half.body);
      assert.match(half.body, /Connection: Upgrade/);
      // A size at attach out of bounds: refused before the upgrade, saying which and why.
      for (const [query, param] of [['?cols=0&rows=30', 'cols'], ['?cols=80&rows=2000', 'rows'], ['?cols=80', 'rows'], ['?cols=wide&rows=30', 'cols']]) {
        const r = await attach(s.id, keyA, query);
        assert.ok('status' in r && r.status === 400, `${query}: ${JSON.stringify(r)}`);
        const e = JSON.parse(r.body).error;
        assert.equal(e.param, param, query);
        assert.match(e.message, /must be an integer from 1 to 1000/, query);
      }
      const post = await call(weir.url, `/v1/agent/sessions/${s.id}/attach`, { headers: bearer(keyA), body: {} });
      assert.equal(post.status, 405, post.text);
      await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(keyA), method: 'DELETE' });
      const ended = await attach(s.id, keyA);
      assert.ok('status' in ended && ended.status === 409 && /has ended/.test(ended.body), JSON.stringify(ended));
    });
  });
}
