// Warm sandboxes per session, so that an execution finds its sandbox already built. Each entry
// was made for one session (its workspace and /tmp are bound) with an input directory of its own.
// Refilled after each execution, off the request path; bounded in sessions and entries. Entries
// are primed with the runtime of the language the session used last (sessions mostly keep to one).
// A session's first execution leaves one sandbox waiting; only a session that comes back while it
// still holds one gets its full count: after a burst of one-shot sessions the pool holds one
// waiting runtime per session, not perSession.
// A session idle for idleMs gives its sandboxes back: after a burst of sessions, the memory of
// their waiting runtimes (10-40 MiB each) returns to the host instead of waiting for eviction.
// A session's sandboxes share one network namespace (loopback only), held here with the session:
// its executions can already reach each other through the session's workspace, and a network
// namespace made and torn down per execution cost ~1 ms of CPU.
import type { Logger } from '../logger.js';
import type { Language } from '../runtimes/runtime.js';
import type { SessionNetwork, SessionNetworks, WarmSandbox } from '../sandbox/index.js';

/** A session idle this long may lose its warm sandboxes to a new one when the pool is full. */
const EVICTABLE_AFTER_MS = 10_000;

export interface WarmEntry {
  warm: WarmSandbox;
  /** the language whose runtime is primed in it, if any */
  language: Language | null;
  /** host directory bound at /run/execution: the execution writes its code and event here */
  inputDir: string;
  /** removes what the entry holds on the host (its input directory) */
  release: () => void;
}

export class WarmPool {
  private readonly sessions = new Map<string, WarmEntry[]>();
  private readonly networks = new Map<string, SessionNetwork>();
  private readonly filling = new Set<string>();
  private readonly lastActive = new Map<string, number>();
  /** sandboxes each pooled session has taken since it entered the pool: its demand */
  private readonly uses = new Map<string, number>();
  /** armed only while some session holds warm sandboxes: an idle server is not woken */
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly perSession: number,
    private readonly maxSessions: number,
    /** a session that took or was given no sandbox for this long gives its sandboxes back */
    private readonly idleMs: number,
    private readonly create: (sessionId: string, language: Language, network: SessionNetwork | undefined) => WarmEntry,
    private readonly logger: Logger,
    private readonly sessionNetworks?: SessionNetworks,
  ) {}

  /** A ready sandbox for the session, one primed for `language` first, if one is waiting. */
  take(sessionId: string, language: Language): WarmEntry | undefined {
    const entries = this.sessions.get(sessionId);
    if (!entries) return undefined;
    this.lastActive.set(sessionId, Date.now()); // idle counts from an execution's start or end
    // most recently used last: a session running code is not the first to lose its sandboxes
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, entries);
    this.uses.set(sessionId, (this.uses.get(sessionId) ?? 0) + 1);
    for (const entry of entries.filter((e) => !e.warm.usable)) {
      entries.splice(entries.indexOf(entry), 1);
      this.drop(entry);
    }
    const index = Math.max(
      0,
      entries.findIndex((e) => e.language === language),
    );
    return entries.splice(index, 1)[0];
  }

  /**
   * Tops the session's entries up, after the current event-loop turn, primed for `language`;
   * entries primed for another language are replaced (the session has moved on). A session new to
   * the pool gets one entry; one that has taken a sandbox from the pool gets perSession.
   */
  refill(sessionId: string, language: Language): void {
    if (this.closed || this.perSession === 0 || this.filling.has(sessionId)) return;
    this.filling.add(sessionId);
    setImmediate(() => {
      // releaseSession() in between cancels it
      if (!this.filling.delete(sessionId) || this.closed) return;
      // A session new to a full pool takes the place of the least recently active one only when
      // that one has been idle a while: when more sessions are busy than the pool holds, sandboxes
      // evicted before their use would cost a sandbox and a runtime start each, for nothing.
      if (!this.sessions.has(sessionId) && this.sessions.size >= this.maxSessions && !this.oldestIsIdle()) return;
      const entries = this.sessions.get(sessionId) ?? [];
      this.sessions.delete(sessionId); // re-inserted last: the map's order is least recently used first
      this.sessions.set(sessionId, entries);
      this.lastActive.set(sessionId, Date.now());
      this.evictBeyondLimit();
      for (const stale of entries.filter((e) => e.language !== language)) {
        entries.splice(entries.indexOf(stale), 1);
        this.drop(stale);
      }
      try {
        const wanted = Math.min(this.perSession, 1 + (this.uses.get(sessionId) ?? 0));
        while (entries.length < wanted) entries.push(this.create(sessionId, language, this.networkOf(sessionId)));
      } catch (error) {
        this.logger.warn({ session_id: sessionId, err: (error as Error).message }, 'could not prepare a warm sandbox');
      }
      this.armIdleTimer();
    });
  }

  /** The session's usable warm sandboxes for `language`, ready or still starting. */
  waiting(sessionId: string, language: Language): number {
    return this.sessions.get(sessionId)?.filter((e) => e.warm.usable && e.language === language).length ?? 0;
  }

  /** Warm sandboxes waiting, all sessions together. */
  get size(): number {
    let count = 0;
    for (const entries of this.sessions.values()) count += entries.length;
    return count;
  }

  /** Discards every warm sandbox (shutdown, or the dependency set changed under them). */
  clear(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const entries of this.sessions.values()) entries.splice(0).forEach((e) => this.drop(e));
    this.sessions.clear();
    this.lastActive.clear();
    this.uses.clear();
    for (const sessionId of [...this.networks.keys()]) this.releaseNetwork(sessionId);
  }

  /** Discards the session's warm sandboxes and network, and a refill still to come (the session is gone). */
  releaseSession(sessionId: string): void {
    this.filling.delete(sessionId);
    this.forget(sessionId);
  }

  /** Drops what the pool holds for the session: its sandboxes, activity, demand and network. */
  private forget(sessionId: string): void {
    this.sessions
      .get(sessionId)
      ?.splice(0)
      .forEach((e) => this.drop(e));
    this.sessions.delete(sessionId);
    this.lastActive.delete(sessionId);
    this.uses.delete(sessionId);
    this.releaseNetwork(sessionId);
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  /** Wakes when the least recently active session reaches idleMs. */
  private armIdleTimer(): void {
    if (this.idleTimer || this.closed || this.lastActive.size === 0) return;
    const oldest = Math.min(...this.lastActive.values());
    this.idleTimer = setTimeout(() => this.giveBackIdle(), Math.max(0, oldest + this.idleMs - Date.now()));
    this.idleTimer.unref();
  }

  private giveBackIdle(): void {
    this.idleTimer = undefined;
    const now = Date.now();
    for (const [sessionId, active] of [...this.lastActive]) {
      if (now - active < this.idleMs || this.filling.has(sessionId)) continue;
      this.logger.debug({ session_id: sessionId, idle_ms: now - active }, 'idle session: its warm sandboxes given back');
      this.releaseSession(sessionId);
    }
    this.armIdleTimer();
  }

  private oldestIsIdle(): boolean {
    const oldest = this.sessions.keys().next().value as string | undefined;
    return oldest === undefined || Date.now() - (this.lastActive.get(oldest) ?? 0) >= EVICTABLE_AFTER_MS;
  }

  private evictBeyondLimit(): void {
    // a refill of the evicted session still to come stays: it re-enters the pool as new
    while (this.sessions.size > this.maxSessions) this.forget(this.sessions.keys().next().value as string);
  }

  /** The session's network, taken with its first warm sandbox that can have one. */
  private networkOf(sessionId: string): SessionNetwork | undefined {
    let network = this.networks.get(sessionId);
    if (!network) {
      network = this.sessionNetworks?.takeNetwork();
      if (network) this.networks.set(sessionId, network);
    }
    return network;
  }

  private releaseNetwork(sessionId: string): void {
    const network = this.networks.get(sessionId);
    if (!network) return;
    this.networks.delete(sessionId);
    this.sessionNetworks?.releaseNetwork(network); // its sandboxes still running keep it until they end
  }

  private drop(entry: WarmEntry): void {
    entry.warm.discard();
    entry.release();
  }
}
