/**
 * RESP connection state (RespClient) and the server-wide registry of RESP connections that
 * CLIENT LIST / INFO / KILL / PAUSE read and act on.
 *
 * Guarantees:
 * - A client is in its server's registry from the moment its connection is accepted until it
 *   closes (`unregister`), whatever its protocol state; ids are unique per server and never
 *   reused (ServerStats.newClientId).
 * - `line()` answers Redis 7's CLIENT LIST fields, in Redis's order, for this connection.
 * - A pause (CLIENT PAUSE) ends at its deadline or at UNPAUSE; every command held by it is
 *   released then, in the order the connections asked.
 */

import type { AuthSession } from '../../auth/provider.js';
import type { ConnectionFacts } from '../connection.js';
import type { ServerStats } from '../stats.js';

/** Redis's `redir` and `multi` field for "none". */
const kNone = -1;
/** What Redis reports as `qbuf-free`/`rbs` for an idle connection's read buffer. */
const kReadBufferBytes = 16 * 1024;

/** CLIENT REPLY: ON answers everything, OFF nothing, SKIP nothing for the next command only. */
export type ReplyMode = 'on' | 'off' | 'skip';

/** A queued command: a copy of its arguments (a request's views die with the request). */
export interface QueuedCommand {
  readonly buffer: Buffer;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly count: number;
}

/** The state of a MULTI. */
export interface MultiState {
  readonly queued: QueuedCommand[];
  /** A command was refused while queuing: EXEC answers EXECABORT and runs nothing. */
  aborted: boolean;
  /** Some queued command has the write flag (EXEC is then a write for the read-only check). */
  writes: boolean;
  /** Some queued command has the denyoom flag (EXEC is then refused when over maxmemory). */
  denyOom: boolean;
  /** Bytes of the queued arguments (CLIENT LIST `multi-mem`). */
  bytes: number;
}

/** What the connection layer tells a RESP client about its socket. */
export type SocketFacts = ConnectionFacts;

export class RespClient {
  readonly id: number;
  readonly createdAtMs = Date.now();
  lastCommandAtMs = this.createdAtMs;
  /** Last command run, as CLIENT LIST's `cmd` (`client|list`, `get`). */
  lastCommand = 'NULL';
  name: string | null = null;
  quit = false;
  /** Who this client is (the same model as Skyhash's); set once the database is loaded. */
  auth: AuthSession | null = null;
  /** SELECT's database index. */
  db = 0;
  multi: MultiState | null = null;
  /** A key this client WATCHes changed: its next EXEC answers a null array. */
  watchDirty = false;
  /** Keys this client WATCHes (as latin1 text), per table id (kept by the WatchHub). */
  readonly watched = new Map<number, Set<string>>();
  replyMode: ReplyMode = 'on';
  /** CLIENT REPLY SKIP was run: the next command's reply is dropped. */
  skipNext = false;
  /** The command being run is CLIENT REPLY ON: its OK is sent even though replies were off. */
  replyTurnedOn = false;
  noEvict = false;
  noTouch = false;
  /** RESP protocol version of the connection (HELLO). */
  protocol: 2 | 3 = 2;
  facts: SocketFacts | null = null;

  constructor(id: number) {
    this.id = id;
  }

  /** Whether the client may run commands other than AUTH, HELLO, QUIT and RESET. */
  get authenticated(): boolean {
    return this.auth === null || this.auth.authenticated;
  }

  get addr(): string {
    const socket = this.facts?.socket;
    return socket === undefined ? '' : joinAddress(socket.remoteAddress, socket.remotePort);
  }

  get laddr(): string {
    const socket = this.facts?.socket;
    return socket === undefined ? '' : joinAddress(socket.localAddress, socket.localPort);
  }

  /** CLIENT LIST's flags: x in MULTI, d when a watched key changed, e no-evict, T no-touch, else N. */
  private flags(): string {
    let flags = '';
    if (this.multi !== null) flags += 'x';
    if (this.watchDirty) flags += 'd';
    if (this.quit) flags += 'c';
    if (this.noEvict) flags += 'e';
    if (this.noTouch) flags += 'T';
    return flags === '' ? 'N' : flags;
  }

  /** One CLIENT LIST line (without the newline), Redis 7's fields in Redis's order. */
  line(user: string, nowMs: number): string {
    const socket = this.facts?.socket;
    const qbuf = this.facts?.bufferedBytes() ?? 0;
    const omem = socket?.writableLength ?? 0;
    const multiMem = this.multi?.bytes ?? 0;
    const fields: Array<[string, string | number]> = [
      ['id', this.id],
      ['addr', this.addr],
      ['laddr', this.laddr],
      // Node does not expose descriptors; Redis answers -1 for a connection without one.
      ['fd', kNone],
      ['name', this.name ?? ''],
      ['age', Math.floor((nowMs - this.createdAtMs) / 1000)],
      // lastCommandAtMs comes from the monotonic clock (timeOrigin + now): never below 0.
      ['idle', Math.max(0, Math.floor((nowMs - this.lastCommandAtMs) / 1000))],
      ['flags', this.flags()],
      ['db', this.db],
      ['sub', 0],
      ['psub', 0],
      ['ssub', 0],
      ['multi', this.multi === null ? kNone : this.multi.queued.length],
      ['qbuf', qbuf],
      ['qbuf-free', Math.max(0, kReadBufferBytes - qbuf)],
      ['argv-mem', 0],
      ['multi-mem', multiMem],
      ['rbs', kReadBufferBytes],
      ['rbp', qbuf],
      ['obl', 0],
      ['oll', 0],
      ['omem', omem],
      ['tot-mem', kReadBufferBytes + qbuf + omem + multiMem],
      ['events', omem > 0 ? 'rw' : 'r'],
      ['cmd', this.lastCommand],
      ['user', user],
      ['redir', kNone],
      ['resp', this.protocol],
    ];
    return fields.map(([name, value]) => `${name}=${value}`).join(' ');
  }
}

function joinAddress(host: string | undefined, port: number | undefined): string {
  if (host === undefined || port === undefined) return '';
  // Redis writes IPv6 addresses bare too (`::1:6379`); an IPv4-mapped one is shown as IPv4.
  return `${host.startsWith('::ffff:') ? host.slice(7) : host}:${port}`;
}

/** CLIENT PAUSE: what is held, until when. */
export type PauseKind = 'write' | 'all';

export class RespClientRegistry {
  private readonly clients = new Map<number, RespClient>();
  private pauseKind: PauseKind | null = null;
  private pauseTimer: NodeJS.Timeout | null = null;
  private pauseEndMs = 0;
  private readonly waiting: Array<() => void> = [];

  add(client: RespClient): void {
    this.clients.set(client.id, client);
  }

  remove(client: RespClient): void {
    this.clients.delete(client.id);
  }

  all(): RespClient[] {
    return [...this.clients.values()];
  }

  get(id: number): RespClient | undefined {
    return this.clients.get(id);
  }

  get paused(): PauseKind | null {
    return this.pauseKind;
  }

  /**
   * Hold commands (all, or writes) for `timeoutMs`. As in Redis, a pause during a pause keeps
   * the wider kind and the later end.
   */
  pause(kind: PauseKind, timeoutMs: number, nowMs: number): void {
    if (this.pauseKind !== 'all') this.pauseKind = kind;
    const endMs = nowMs + timeoutMs;
    if (this.pauseTimer !== null && endMs <= this.pauseEndMs) return;
    this.pauseEndMs = endMs;
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => this.unpause(), timeoutMs);
    this.pauseTimer.unref();
  }

  unpause(): void {
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    this.pauseKind = null;
    for (const release of this.waiting.splice(0)) release();
  }

  /** A promise that resolves when the pause ends. */
  whenUnpaused(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

const kRegistries = new WeakMap<ServerStats, RespClientRegistry>();

/** The RESP client registry of the server these stats belong to. */
export function clientRegistry(stats: ServerStats): RespClientRegistry {
  let registry = kRegistries.get(stats);
  if (registry === undefined) {
    registry = new RespClientRegistry();
    kRegistries.set(stats, registry);
  }
  return registry;
}
