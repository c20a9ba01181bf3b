// Messages between the control thread and the spawner thread (spawner.ts, spawner-thread.ts).

export interface SpawnRequest {
  id: number;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  stdinFd?: number;
  uid?: number;
  gid?: number;
}

export type SpawnReply =
  | { type: 'started'; id: number; pid: number }
  | { type: 'stdout' | 'stderr'; id: number; data: Uint8Array }
  | { type: 'exited'; id: number }
  | { type: 'closed'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'failed'; id: number; message: string };
