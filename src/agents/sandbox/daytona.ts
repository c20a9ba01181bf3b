// `provider: daytona` through `@daytonaio/sdk`. The client is made with the options' key and
// address (never DAYTONA_* from Weir's environment) and polls for state instead of opening a
// socket.io connection per client. Daytona's session commands share one shell with an open stdin:
// every exec gets a session of its own (deleted after, which also kills what it left), runs in a
// subshell (the command line's `exec` must not replace the session's shell) with its stdin
// redirected, and its output streams over the logs WebSocket; the exit code is read once it ends.
// A sandbox lives for its lifetime as an auto-stop interval and is deleted when it stops. A PTY is
// the daemon's PTY session (the SDK's `createPty`: the user's login shell, its output and our
// keystrokes over one WebSocket, its exit code in the daemon's last control message); a resize is
// the handle's `resize` (a POST of the session's new size to the daemon).
import { randomBytes } from 'node:crypto';
import { Daytona, type Sandbox as DaytonaSandbox } from '@daytonaio/sdk';
import type { CloudOptions } from './cloud-options';
import { describeCloudError } from './cloud-errors';
import { quote } from './command-line';
import { PTY_LINE, ptyEnv, SandboxLostError, type Cloud, type Machine, type MachineInfo, type MachinePty, type MachinePtyOptions, type MachineRun } from './machine';

/** How many times the exit code is asked for after the logs ended (the daemon records it as it ends). */
const EXIT_CODE_TRIES = 50;
const EXIT_CODE_WAIT_MS = 100;
const CIDR = /^[0-9.:a-fA-F]+(\/\d{1,3})?$/;

export class DaytonaCloud implements Cloud {
  readonly kind = 'daytona' as const;
  private readonly client: Daytona;

  constructor(private readonly o: CloudOptions) {
    this.client = new Daytona({ apiKey: o.apiKey, apiUrl: o.apiUrl, target: o.target, requestTimeoutMs: o.requestTimeoutMs, useDeprecatedPolling: true });
  }

  async create(labels: Record<string, string>, lifetimeMs: number): Promise<Machine> {
    const o = this.o;
    const params: Record<string, unknown> = {
      labels: { ...labels },
      autoStopInterval: minutes(lifetimeMs),
      autoDeleteInterval: 0,
    };
    if (o.template) params.snapshot = o.template;
    if (o.resources.cpu || o.resources.memoryMb || o.resources.diskGb) {
      params.resources = { cpu: o.resources.cpu, memory: o.resources.memoryMb ? Math.ceil(o.resources.memoryMb / 1024) : undefined, disk: o.resources.diskGb };
    }
    if (o.allowOut.length) {
      const cidrs = o.allowOut.filter((a) => CIDR.test(a));
      const domains = o.allowOut.filter((a) => !CIDR.test(a));
      if (cidrs.length) params.networkAllowList = cidrs.join(',');
      if (domains.length) params.domainAllowList = domains.join(',');
      if (!cidrs.length && !domains.length) params.networkBlockAll = true;
    }
    try {
      const sbx = await this.client.create(params as Parameters<Daytona['create']>[0], { timeout: Math.ceil(o.createTimeoutMs / 1000) });
      return new DaytonaMachine(sbx);
    } catch (e) {
      throw describeCloudError('daytona', 'create', e, o.template);
    }
  }

  async connect(id: string): Promise<Machine> {
    try {
      return new DaytonaMachine(await this.client.get(id));
    } catch (e) {
      throw describeCloudError('daytona', 'connect', e);
    }
  }

  async list(labels: Record<string, string>): Promise<MachineInfo[]> {
    try {
      const out: MachineInfo[] = [];
      for await (const s of this.client.list({ labels })) out.push({ id: s.id, labels: s.labels ?? {} });
      return out;
    } catch (e) {
      throw describeCloudError('daytona', 'list', e);
    }
  }

  async kill(id: string): Promise<void> {
    let sbx: DaytonaSandbox;
    try {
      sbx = await this.client.get(id);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return;
      throw describeCloudError('daytona', 'kill', e);
    }
    await new DaytonaMachine(sbx).kill();
  }
}

class DaytonaMachine implements Machine {
  constructor(private readonly sbx: DaytonaSandbox) {}

  get id(): string {
    return this.sbx.id;
  }

  run(cmd: string, onStdout: (c: Buffer) => void, onStderr: (c: Buffer) => void): MachineRun {
    const p = this.sbx.process;
    const session = `weir-${randomBytes(8).toString('hex')}`;
    let killed = false;
    let made = false;
    const removeSession = () => p.deleteSession(session).catch(() => {});
    const done = (async (): Promise<number> => {
      try {
        await p.createSession(session);
        made = true;
        if (killed) return 137;
        const { cmdId } = await p.executeSessionCommand(session, { command: `(${cmd})`, runAsync: true });
        if (!cmdId) throw new Error('the daemon gave no command id');
        await p.getSessionCommandLogs(session, cmdId, (s) => onStdout(Buffer.from(s)), (s) => onStderr(Buffer.from(s)));
        for (let i = 0; i < EXIT_CODE_TRIES; i++) {
          const c = await p.getSessionCommand(session, cmdId);
          if (c.exitCode !== undefined && c.exitCode !== null) return c.exitCode < 0 ? 137 : c.exitCode;
          if (killed) return 137;
          await new Promise((r) => setTimeout(r, EXIT_CODE_WAIT_MS));
        }
        throw new Error('the command ended without an exit code');
      } catch (e) {
        if (killed) return 137;
        throw new SandboxLostError(describeCloudError('daytona', 'exec', e).message);
      } finally {
        if (made) await removeSession();
      }
    })();
    return {
      done,
      kill: () => {
        if (killed) return;
        killed = true;
        // Deleting the session ends its shell and what runs in it; the logs socket closes with it.
        if (made) void removeSession();
      },
    };
  }

  async pty(o: MachinePtyOptions): Promise<MachinePty> {
    let h: Awaited<ReturnType<DaytonaSandbox['process']['createPty']>>;
    try {
      h = await this.sbx.process.createPty({ id: `weir-pty-${randomBytes(8).toString('hex')}`, cols: o.cols, rows: o.rows, envs: ptyEnv(o), onData: (d) => o.onData(Buffer.from(d)) });
    } catch (e) {
      throw new SandboxLostError(describeCloudError('daytona', 'open a PTY', e).message);
    }
    let killed = false;
    const write = (data: Buffer) => {
      // The socket keeps the order; a PTY that went away says so through `done`.
      if (!killed) h.sendInput(new Uint8Array(data)).catch(() => {});
    };
    write(Buffer.from(PTY_LINE));
    const done = h.wait().then(
      (r) => {
        if (killed) return 137;
        if (r.exitCode === undefined) throw new SandboxLostError(`the daytona sandbox stopped answering while its terminal ran${r.error ? `: ${r.error}` : ''}`);
        return r.exitCode < 0 ? 137 : r.exitCode;
      },
      (e: unknown) => {
        if (killed) return 137;
        throw new SandboxLostError(describeCloudError('daytona', 'pty', e).message);
      },
    );
    // The SDK hands keystrokes to its WebSocket at once (no queue of its own); what that socket has
    // not sent yet is the back-pressure. The handle keeps its socket private: read, not relied on.
    const socket = (h as unknown as { ws?: { bufferedAmount?: unknown } }).ws;
    return {
      done,
      write,
      get pendingBytes() {
        const n = socket?.bufferedAmount;
        return typeof n === 'number' ? n : 0;
      },
      resize: async (cols, rows) => {
        if (killed) return;
        try {
          await h.resize(cols, rows);
        } catch (e) {
          throw describeCloudError('daytona', 'resize its terminal', e);
        }
      },
      kill: () => {
        if (killed) return;
        killed = true;
        // Deleting the PTY session kills its shell and what runs in it; its socket closes with it.
        void h.kill().catch(() => {}).finally(() => void h.disconnect());
      },
    };
  }

  async runQuick(cmd: string): Promise<{ code: number; out: string }> {
    try {
      // One call, output collected (stdout and stderr merged); through sh, whatever the daemon runs it with.
      const r = await this.sbx.process.executeCommand(`sh -c ${quote(cmd)}`);
      return { code: r.exitCode ?? 0, out: r.result ?? '' };
    } catch (e) {
      throw new SandboxLostError(describeCloudError('daytona', 'exec', e).message);
    }
  }

  async write(files: Array<{ path: string; data: Buffer }>): Promise<void> {
    try {
      // One bulk upload for all of them.
      await this.sbx.fs.uploadFiles(files.map((f) => ({ source: f.data, destination: f.path })));
    } catch (e) {
      throw describeCloudError('daytona', `write ${files.map((f) => f.path).join(', ')}`, e);
    }
  }

  async read(path: string, maxBytes: number): Promise<Buffer | null> {
    try {
      const b = await this.sbx.fs.downloadFile(path);
      return b.length > maxBytes ? b.subarray(0, maxBytes) : b;
    } catch (e) {
      const err = e as { statusCode?: number; name?: string; message?: string };
      if (err.statusCode === 404 || /NotFound/.test(err.name ?? '') || /not found|no such file/i.test(err.message ?? '')) return null;
      throw describeCloudError('daytona', `read ${path}`, e);
    }
  }

  async setLifetime(ms: number): Promise<void> {
    try {
      await this.sbx.setAutostopInterval(minutes(ms));
    } catch (e) {
      throw describeCloudError('daytona', 'set its auto-stop interval', e);
    }
  }

  async kill(): Promise<void> {
    try {
      await this.sbx.delete();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return;
      throw describeCloudError('daytona', 'delete', e);
    }
  }
}

const minutes = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));
