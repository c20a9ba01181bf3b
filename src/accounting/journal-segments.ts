// The spend journal's segment files: their names, what a name tells, and whether the process that
// wrote a segment still lives. The workers' journal writer names segments with this; the control
// thread's spend writer (and the metrics) list them and decide, without opening them, which are
// this process's, which a dead process left, and how their records are encoded. This file is
// loaded by worker threads: it must not import pg.
//
// Segment files are named so that a plain sort orders them by creation and so that the reader can
// tell, without opening them, which process wrote them, whether that process still lives and the
// format of its records:
//   spend-<ms since epoch, 13 digits>-<seq, 6 digits>-<pid>-<process tag>-<random>-<writer>.<format>
// `.wj2`: binary records (journal-binary.ts), what this version writes. `.jsonl`: one JSON line per
// record, what versions before it wrote; still read, so that segments left by an upgrade are
// committed.
import fs from 'node:fs';
import path from 'node:path';

const NAME_RE = /^spend-(\d{13})-(\d{6})-(\d+)-([0-9a-z]+)-([0-9a-f]{8})-([A-Za-z0-9_]*)\.(jsonl|wj2)$/;

/** 1: JSON lines (`.jsonl`, older versions); 2: binary records (`.wj2`). */
export type JournalFormat = 1 | 2;

export interface SegmentInfo {
  /** Absolute path. */
  path: string;
  /** File name: the segment's identity (also its key in `Weir_SpendJournal`). */
  file: string;
  createdMs: number;
  seq: number;
  pid: number;
  /** Identifies the writing process beyond its pid (pids are reused, e.g. pid 1 in containers). */
  processTag: string;
  writer: string;
  format: JournalFormat;
}

/** The file name of a new segment (`ts` and `seq` already padded to 13 and 6 digits). */
export function segmentName(ts: string, seq: string, rand: string, writer: string, format: JournalFormat): string {
  return `spend-${ts}-${seq}-${process.pid}-${processTag()}-${rand}-${writer}.${format === 2 ? 'wj2' : 'jsonl'}`;
}

/** Written by this process (its records are in this process's in-memory "pending"). */
export function ownSegment(seg: Pick<SegmentInfo, 'pid' | 'processTag'>): boolean {
  return seg.pid === process.pid && seg.processTag === processTag();
}

let ownTag: string | null = null;

function procStartTicks(pid: number | 'self'): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name in field 2 may contain spaces, so count from ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

let bootId: string | null | undefined;
function machineBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replace(/[^0-9a-f]/g, '').slice(0, 8);
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

function tagFrom(startTicks: string): string {
  return `${Number(startTicks).toString(36)}${machineBootId() ?? ''}`;
}

/**
 * A tag for this process, the same in every thread of it: the kernel's start time of the process
 * (and the machine's boot id) where /proc exists, else the start second.
 */
export function processTag(): string {
  if (ownTag === null) {
    const ticks = procStartTicks('self');
    ownTag = ticks !== null ? tagFrom(ticks) : `t${Math.round((Date.now() - process.uptime() * 1000) / 1000).toString(36)}`;
  }
  return ownTag;
}

/**
 * Whether the process that wrote the segment may still append to it. Errs towards "alive": a
 * segment wrongly thought dead would be deleted under a live writer, one wrongly thought alive only
 * lingers (its records are still committed).
 */
export function segmentWriterAlive(seg: Pick<SegmentInfo, 'pid' | 'processTag'>): boolean {
  if (seg.pid === process.pid && seg.processTag === processTag()) return true;
  const ticks = procStartTicks(seg.pid);
  if (ticks !== null) return tagFrom(ticks) === seg.processTag;
  if (fs.existsSync('/proc/self/stat')) return false; // /proc works here and the pid is gone
  if (seg.pid === process.pid) return false; // our pid, another start: a previous run
  try {
    process.kill(seg.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseSegmentName(dir: string, file: string): SegmentInfo | null {
  const m = NAME_RE.exec(file);
  if (!m) return null;
  return {
    path: path.resolve(dir, file),
    file,
    createdMs: Number(m[1]),
    seq: Number(m[2]),
    pid: Number(m[3]),
    processTag: m[4]!,
    writer: m[6]!,
    format: m[7] === 'wj2' ? 2 : 1,
  };
}

/** The journal's segments, oldest first. A missing folder has none. */
export function listSegments(dir: string): SegmentInfo[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: SegmentInfo[] = [];
  for (const f of files.sort()) {
    const s = parseSegmentName(dir, f);
    if (s) out.push(s);
  }
  return out;
}
