// The admin page's login sessions, on the control thread. A session is found by the sha256 of its
// cookie token: the token itself is never kept, so a dump of this table logs nobody in, and the
// lookup's timing says nothing about the token (a Map lookup of a hash). Bounded: past the cap the
// oldest session goes first; expired ones go when met and on every insert's sweep.
import { createHash, randomBytes } from 'node:crypto';

/** Who a session acts as: the master key's identity, or a virtual key's (found by its hash). */
export type SessionActor = { kind: 'master' } | { kind: 'open' } | { kind: 'key'; keyHash: string };

export interface Session {
  actor: SessionActor;
  userId: string;
  userRole: string;
  teamIds: string[];
  csrf: string;
  expiresAt: number;
  /** A key minted for this session (a user's password login, as LiteLLM does): blocked at logout. */
  mintedKey: string | null;
}

/** What GET /ui/session and POST /ui/login answer. */
export function sessionView(s: Session): { user_id: string; user_role: string; team_ids: string[]; csrf_token: string; expires_at: string } {
  return { user_id: s.userId, user_role: s.userRole, team_ids: s.teamIds, csrf_token: s.csrf, expires_at: new Date(s.expiresAt).toISOString() };
}

export const DEFAULT_MAX_SESSIONS = 10_000;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export class SessionTable {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly byHash = new Map<string, Session>();

  constructor(
    private readonly max = DEFAULT_MAX_SESSIONS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.byHash.size;
  }

  /** Stores a new session for `durationMs`; returns its cookie token (shown once, never kept). */
  create(fields: Omit<Session, 'csrf' | 'expiresAt'>, durationMs: number): { token: string; session: Session } {
    this.sweep();
    while (this.byHash.size >= this.max) this.evictOldest();
    const token = newToken();
    const session: Session = { ...fields, csrf: newToken(), expiresAt: this.now() + durationMs };
    this.byHash.set(tokenHash(token), session);
    return { token, session };
  }

  /** The live session of this cookie token, or null (unknown, or expired: then removed). */
  find(token: string | null | undefined): Session | null {
    if (!token) return null;
    const h = tokenHash(token);
    const s = this.byHash.get(h);
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.byHash.delete(h);
      return null;
    }
    return s;
  }

  /** Ends the session of this token; returns it when there was one. */
  remove(token: string | null | undefined): Session | null {
    if (!token) return null;
    const h = tokenHash(token);
    const s = this.byHash.get(h) ?? null;
    this.byHash.delete(h);
    return s;
  }

  private evictOldest(): void {
    const first = this.byHash.keys().next();
    if (!first.done) this.byHash.delete(first.value);
  }

  /**
   * Drops expired sessions from the oldest end. Sessions share one duration, so age order is expiry
   * order and the sweep stops at the first live one: each session is swept once, linear overall.
   */
  private sweep(): void {
    const now = this.now();
    for (const [h, s] of this.byHash) {
      if (s.expiresAt > now) break;
      this.byHash.delete(h);
    }
  }
}
