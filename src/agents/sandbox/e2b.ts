// `provider: e2b` through `@e2b/code-interpreter`'s Sandbox (E2B's own). Every call carries the
// options' key and addresses explicitly (never E2B_* from Weir's environment, so one Weir can hold
// several E2B accounts and a test's fake is the only thing the SDK reaches). E2B's defaults are
// overridden where they would cut a run short: a command ends after 60 s unless its timeout is 0
// (ours are: the run's own watchdog stops the agent), a sandbox after 300 s unless its lifetime is
// set (create and claim set it to the run's timeout plus slack). A PTY is envd's process Start with
// a `pty` field (the SDK's `pty.create`: an interactive login bash); its keystrokes are SendInput
// calls, one at a time so that they arrive in the order typed, and its resizes Update calls (the
// SDK's `pty.resize`) in the same line, so a resize lands between the keystrokes around it.
import { CommandExitError, Sandbox as E2BSandbox, type SandboxOpts } from '@e2b/code-interpreter';
import type { CloudOptions } from './cloud-options';
import { describeCloudError } from './cloud-errors';
import { PTY_LINE, ptyEnv, SandboxLostError, type Cloud, type Machine, type MachineInfo, type MachinePty, type MachinePtyOptions, type MachineRun } from './machine';

/** Retries of a 429 the SDK makes itself (each honouring Retry-After, within the request timeout). */
const RATE_LIMIT_RETRIES = 2;

export class E2BCloud implements Cloud {
  readonly kind = 'e2b' as const;

  constructor(private readonly o: CloudOptions) {}

  private get conn(): SandboxOpts {
    const o = this.o;
    return { apiKey: o.apiKey, apiUrl: o.apiUrl, sandboxUrl: o.sandboxUrl, domain: o.domain, requestTimeoutMs: o.requestTimeoutMs, retries: RATE_LIMIT_RETRIES } as SandboxOpts;
  }

  async create(labels: Record<string, string>, lifetimeMs: number): Promise<Machine> {
    const opts: SandboxOpts = { ...this.conn, metadata: labels, timeoutMs: lifetimeMs };
    if (this.o.allowOut.length) opts.network = { allowOut: this.o.allowOut, denyOut: ['0.0.0.0/0'] };
    try {
      const sbx = this.o.template ? await E2BSandbox.create(this.o.template, opts) : await E2BSandbox.create(opts);
      return new E2BMachine(sbx, this.o.requestTimeoutMs);
    } catch (e) {
      throw describeCloudError('e2b', 'create', e, this.o.template);
    }
  }

  async connect(id: string): Promise<Machine> {
    try {
      return new E2BMachine(await E2BSandbox.connect(id, this.conn), this.o.requestTimeoutMs);
    } catch (e) {
      throw describeCloudError('e2b', 'connect', e);
    }
  }

  async list(labels: Record<string, string>): Promise<MachineInfo[]> {
    try {
      const out: MachineInfo[] = [];
      const pages = E2BSandbox.list({ ...this.conn, query: { metadata: labels, state: ['running', 'paused'] } });
      while (pages.hasNext) for (const s of await pages.nextItems()) out.push({ id: s.sandboxId, labels: s.metadata ?? {} });
      return out;
    } catch (e) {
      throw describeCloudError('e2b', 'list', e);
    }
  }

  async kill(id: string): Promise<void> {
    try {
      await E2BSandbox.kill(id, this.conn);
    } catch (e) {
      throw describeCloudError('e2b', 'kill', e);
    }
  }
}

class E2BMachine implements Machine {
  constructor(
    private readonly sbx: E2BSandbox,
    private readonly requestTimeoutMs: number,
  ) {}

  get id(): string {
    return this.sbx.sandboxId;
  }

  run(cmd: string, onStdout: (c: Buffer) => void, onStderr: (c: Buffer) => void): MachineRun {
    let killed = false;
    const started = this.sbx.commands.run(cmd, {
      background: true,
      timeoutMs: 0,
      requestTimeoutMs: this.requestTimeoutMs,
      onStdout: (s) => onStdout(Buffer.from(s)),
      onStderr: (s) => onStderr(Buffer.from(s)),
    });
    const done = started.then(
      async (h) => {
        if (killed) await h.kill().catch(() => false);
        try {
          return exitCode((await h.wait()).exitCode);
        } catch (e) {
          if (e instanceof CommandExitError) return exitCode(e.exitCode);
          throw new SandboxLostError(`the e2b sandbox stopped answering while a command ran: ${describeCloudError('e2b', 'exec', e).message}`);
        }
      },
      (e: unknown) => {
        throw new SandboxLostError(describeCloudError('e2b', 'exec', e).message);
      },
    );
    return {
      done,
      kill: () => {
        if (killed) return;
        killed = true;
        void started.then((h) => h.kill()).catch(() => {});
      },
    };
  }

  async pty(o: MachinePtyOptions): Promise<MachinePty> {
    const sbx = this.sbx;
    const opts = { requestTimeoutMs: this.requestTimeoutMs };
    let h: Awaited<ReturnType<E2BSandbox['pty']['create']>>;
    try {
      // timeoutMs 0: the stream of its output lives as long as the terminal (E2B's default cuts it at 60 s).
      h = await sbx.pty.create({ cols: o.cols, rows: o.rows, envs: ptyEnv(o), timeoutMs: 0, ...opts, onData: (d) => o.onData(Buffer.from(d)) });
    } catch (e) {
      throw new SandboxLostError(describeCloudError('e2b', 'open a PTY', e).message);
    }
    const pid = h.pid;
    let pending = 0;
    let chain: Promise<unknown> = Promise.resolve();
    let killed = false;
    const write = (data: Buffer) => {
      if (killed) return;
      pending += data.length;
      chain = chain.then(() => sbx.pty.sendInput(pid, new Uint8Array(data), opts)).catch(() => {}).then(() => (pending -= data.length));
    };
    const resize = (cols: number, rows: number): Promise<void> => {
      if (killed) return Promise.resolve();
      const sized = chain.then(() => sbx.pty.resize(pid, { cols, rows }, opts));
      chain = sized.catch(() => {});
      return sized.catch((e: unknown) => {
        throw describeCloudError('e2b', 'resize its terminal', e);
      });
    };
    write(Buffer.from(PTY_LINE));
    const done = h.wait().then(
      (r) => exitCode(r.exitCode),
      (e: unknown) => {
        if (e instanceof CommandExitError) return exitCode(e.exitCode);
        throw new SandboxLostError(`the e2b sandbox stopped answering while its terminal ran: ${describeCloudError('e2b', 'pty', e).message}`);
      },
    );
    return {
      done,
      write,
      get pendingBytes() {
        return pending;
      },
      resize,
      kill: () => {
        if (killed) return;
        killed = true;
        void h.kill().catch(() => false);
      },
    };
  }

  async write(files: Array<{ path: string; data: Buffer }>): Promise<void> {
    try {
      // One multipart request for all of them (each part named by its path).
      await this.sbx.files.write(files.map((f) => ({ path: f.path, data: new Blob([new Uint8Array(f.data)]) })), { requestTimeoutMs: this.requestTimeoutMs });
    } catch (e) {
      throw describeCloudError('e2b', `write ${files.map((f) => f.path).join(', ')}`, e);
    }
  }

  async read(path: string, maxBytes: number): Promise<Buffer | null> {
    try {
      const b = await this.sbx.files.read(path, { format: 'bytes', requestTimeoutMs: this.requestTimeoutMs });
      return Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, maxBytes));
    } catch (e) {
      if ((e as Error).name === 'NotFoundError' || (e as Error).name === 'FileNotFoundError') return null;
      throw describeCloudError('e2b', `read ${path}`, e);
    }
  }

  async setLifetime(ms: number): Promise<void> {
    try {
      await this.sbx.setTimeout(ms, { requestTimeoutMs: this.requestTimeoutMs });
    } catch (e) {
      throw describeCloudError('e2b', 'set its timeout', e);
    }
  }

  async kill(): Promise<void> {
    try {
      await this.sbx.kill({ requestTimeoutMs: this.requestTimeoutMs });
    } catch (e) {
      throw describeCloudError('e2b', 'kill', e);
    }
  }
}

/** envd reports a process killed by a signal with a negative code: the shell's 128 + 9 instead. */
function exitCode(code: number | undefined): number {
  return code === undefined || code < 0 ? 137 : code;
}
