// Messages between Weir's control thread and the spawner process (spawner.ts, spawner-process.ts),
// over the process's IPC channel (advanced serialization: output chunks cross as bytes). Each side
// sends what one turn of its loop produced as one message, an array when there are several: a
// fan-out's spawns are one message, and the output of dozens of agents read in one turn another.

export interface SpawnRequest {
  id: number;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** A path the spawner opens for the child's stdin: `/proc/<Weir's pid>/fd/<n>`, the very file
   *  Weir opened (and confined), not whatever the name may point to by now. */
  stdinPath?: string;
  uid?: number;
  gid?: number;
  /** The niceness of the child's autogroup (its session's CPU share); undefined leaves it alone. */
  autogroupNice?: number;
  /** stdin is a pipe the spawner holds until a SpawnInput for this id (a warm sandbox's launcher
   *  waits on it for its command, see sandbox/local-pool.ts). */
  stdinPipe?: boolean;
}

/** Bytes for a stdinPipe child's stdin, which is then closed. */
export interface SpawnInput {
  id: number;
  input: Uint8Array;
}

export type SpawnMessage = SpawnRequest | SpawnInput;

export type SpawnReply =
  | { type: 'started'; id: number; pid: number }
  /** `at`: when the spawner read the chunk (ms since the epoch): the agent's events are stamped with it. */
  | { type: 'stdout' | 'stderr'; id: number; data: Uint8Array; at: number }
  | { type: 'exited'; id: number }
  | { type: 'closed'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'failed'; id: number; message: string };
