/**
 * RESP INFO: Redis 7.0's sections, in Redis's order and with Redis's field names wherever
 * frostkv has the fact (docs/behaviour.md, RESP), plus frostkv's own `frostkv_*` fields.
 *
 * Guarantees:
 * - `INFO` and `INFO default` answer server clients memory persistence stats replication cpu
 *   modules errorstats cluster keyspace; `all` adds commandstats and latencystats;
 *   `everything` is `all` (frostkv has no modules). Section names are case-insensitive; a
 *   section asked twice, or also covered by `all`, appears once; unknown names add nothing.
 * - INFO persistence carries the status listed in docs/persistence.md (Status) under Redis's
 *   names where one exists (rdb_changes_since_last_save, rdb_bgsave_in_progress,
 *   rdb_last_save_time, rdb_last_bgsave_status, current_cow_size, ...).
 * - A field frostkv cannot know is left out rather than invented; every line is
 *   `field:value` with no CR or LF inside a value, sections separated by an empty line.
 */

import { randomBytes } from 'node:crypto';
import { arch, hostname, platform, release, totalmem } from 'node:os';
import type { Database } from '../../database.js';
import { kVersion } from '../../version.js';
import type { ServerStats, ServerView } from '../stats.js';
import type { RespDatabases } from './databases.js';
import { kRespDatabaseCount } from './databases.js';
import { configValue } from './config.js';

/** Redis version frostkv reports, so clients that check versions enable RESP2-era features. */
export const kRedisCompatVersion = '7.0.0';
/** frostkv's expiry sweep runs every 100 ms: Redis's `hz` 10. */
const kSweepHz = 10;
const kMsPerDay = 86_400_000;

/** Every section, in the order Redis writes them. */
const kSectionOrder = [
  'server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'commandstats', 'errorstats',
  'latencystats', 'cluster', 'keyspace',
] as const;
type Section = (typeof kSectionOrder)[number];
const kDefaultSections: ReadonlySet<Section> = new Set(['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace']);
const kTitles: Record<Section, string> = {
  server: 'Server', clients: 'Clients', memory: 'Memory', persistence: 'Persistence', stats: 'Stats', replication: 'Replication',
  cpu: 'CPU', modules: 'Modules', commandstats: 'Commandstats', errorstats: 'Errorstats', latencystats: 'Latencystats',
  cluster: 'Cluster', keyspace: 'Keyspace',
};

/** What INFO reads. */
export interface InfoSource {
  readonly db: Database;
  readonly view: ServerView;
  readonly databases: RespDatabases;
  /** The table RESP database 0 serves. */
  readonly tableEntity: string;
}

type Fields = Array<[string, string | number]>;

/** Per server: a run id (Redis's run_id, made at start) and the highest used_memory INFO saw. */
interface ServerMemo {
  readonly runId: string;
  peakUsedBytes: number;
}
const kMemos = new WeakMap<ServerStats, ServerMemo>();

function memo(stats: ServerStats): ServerMemo {
  let found = kMemos.get(stats);
  if (found === undefined) {
    found = { runId: randomBytes(20).toString('hex'), peakUsedBytes: 0 };
    kMemos.set(stats, found);
  }
  return found;
}

function clean(value: string | number): string {
  return String(value).replace(/[\r\n]/g, ' ');
}

/** Redis's bytesToHuman: B, then K M G T P with two decimals. */
export function human(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)}${units[unit]}`;
}

function seconds(ms: number | null): number {
  return ms === null ? -1 : Math.max(0, Math.round(ms / 1000));
}

/** Microseconds as Redis's `%ld.%06ld` seconds. */
function cpuSeconds(usec: number): string {
  return `${Math.floor(usec / 1e6)}.${String(usec % 1e6).padStart(6, '0')}`;
}

function serverFields(src: InfoSource): Fields {
  const { view } = src;
  const nowMs = Date.now();
  const uptimeSeconds = Math.floor((nowMs - view.stats.startedAtMs) / 1000);
  return [
    ['redis_version', kRedisCompatVersion],
    ['frostkv_version', kVersion],
    ['redis_mode', 'standalone'],
    ['os', `${platform()} ${release()} ${arch()}`],
    ['arch_bits', arch().includes('64') ? 64 : 32],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', memo(view.stats).runId],
    ['tcp_port', view.respPort()],
    ['frostkv_skyhash_port', view.skyhashPort()],
    ['frostkv_table', src.tableEntity],
    ['server_time_usec', nowMs * 1000],
    ['uptime_in_seconds', uptimeSeconds],
    ['uptime_in_days', Math.floor((nowMs - view.stats.startedAtMs) / kMsPerDay)],
    ['hz', kSweepHz],
    ['configured_hz', kSweepHz],
    ['executable', process.argv[1] ?? ''],
    ['config_file', view.configFile ?? ''],
    ['io_threads_active', 0],
    ['host', hostname()],
    ['node_version', process.version],
  ];
}

function clientsFields(src: InfoSource): Fields {
  return [
    ['connected_clients', src.view.connectionCount()],
    ['cluster_connections', 0],
    ['maxclients', src.view.maxclient()],
    ['blocked_clients', 0],
    ['tracking_clients', 0],
    ['clients_in_timeout_table', 0],
  ];
}

function memoryFields(src: InfoSource): Fields {
  const status = src.db.status();
  const memory = process.memoryUsage();
  const used = status.dataBytes + memory.heapUsed;
  const peaks = memo(src.view.stats);
  peaks.peakUsedBytes = Math.max(peaks.peakUsedBytes, used);
  const total = totalmem();
  const maxmemory = Number(configValue(src.view.stats, 'maxmemory'));
  return [
    ['used_memory', used],
    ['used_memory_human', human(used)],
    ['used_memory_rss', memory.rss],
    ['used_memory_rss_human', human(memory.rss)],
    ['used_memory_peak', peaks.peakUsedBytes],
    ['used_memory_peak_human', human(peaks.peakUsedBytes)],
    ['used_memory_dataset', status.dataBytes],
    ['total_system_memory', total],
    ['total_system_memory_human', human(total)],
    ['maxmemory', maxmemory],
    ['maxmemory_human', human(maxmemory)],
    ['maxmemory_policy', configValue(src.view.stats, 'maxmemory-policy')],
    ['mem_fragmentation_ratio', used > 0 ? (memory.rss / used).toFixed(2) : '0.00'],
    ['mem_allocator', 'node'],
    ['frostkv_js_heap_used', memory.heapUsed],
    ['frostkv_shared_buffers', memory.arrayBuffers],
  ];
}

function persistenceFields(src: InfoSource): Fields {
  const status = src.db.status();
  const persistence = status.persistence;
  const saving = persistence?.saving.find((job) => job.kind === 'bgsave') ?? null;
  const anySave = persistence?.saving[0] ?? null;
  const bgsave = persistence?.bgsave;
  const lastSave = persistence?.lastSaveTimeMs ?? null;
  return [
    ['loading', 0],
    ['async_loading', 0],
    ['current_cow_peak', persistence?.cowBytesPeak ?? 0],
    ['current_cow_size', persistence?.cowBytesNow ?? 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', anySave === null || anySave.keysTotal === 0 ? '0.00' : ((100 * anySave.keysDone) / anySave.keysTotal).toFixed(2)],
    ['current_save_keys_processed', anySave?.keysDone ?? 0],
    ['current_save_keys_total', anySave?.keysTotal ?? 0],
    ['rdb_changes_since_last_save', persistence?.changesSinceLastSave ?? 0],
    ['rdb_bgsave_in_progress', saving === null ? 0 : 1],
    ['rdb_last_save_time', Math.floor((lastSave ?? src.view.stats.startedAtMs) / 1000)],
    ['rdb_last_bgsave_status', bgsave?.status === 'err' ? 'err' : 'ok'],
    ['rdb_last_bgsave_time_sec', bgsave?.durationMs === null || bgsave === undefined ? -1 : seconds(bgsave.durationMs)],
    ['rdb_current_bgsave_time_sec', saving === null ? -1 : seconds(Date.now() - saving.startedAtMs)],
    ['rdb_last_cow_size', persistence?.cowBytesPeak ?? 0],
    ['aof_enabled', 0],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1],
    ['aof_last_bgrewrite_status', 'ok'],
    ['aof_last_write_status', 'ok'],
    ['module_fork_in_progress', 0],
    ['frostkv_data_dir', persistence?.dataDir ?? ''],
    ['frostkv_bgsave_enabled', bgsave?.enabled === true ? 1 : 0],
    ['frostkv_bgsave_every_seconds', bgsave?.everySeconds ?? 0],
    ['frostkv_saves_in_progress', persistence?.saving.length ?? 0],
    ['frostkv_last_save_kind', persistence?.last.kind ?? ''],
    ['frostkv_last_save_status', persistence?.last.status ?? 'never'],
    ['frostkv_last_save_duration_ms', persistence?.last.durationMs === null || persistence === null ? -1 : Math.round(persistence.last.durationMs)],
    ['frostkv_last_cut_pause_ms', persistence?.last.cutPauseMs === null || persistence === null ? -1 : persistence.last.cutPauseMs.toFixed(4)],
    ['frostkv_last_error_step', persistence?.last.error?.step ?? ''],
    ['frostkv_last_error', persistence?.last.error?.message ?? ''],
    ['frostkv_snapshot_enabled', persistence?.snapshot.enabled === true ? 1 : 0],
    ['frostkv_snapshot_count', persistence?.snapshotCount ?? 0],
    ['frostkv_last_snapshot_status', persistence?.snapshot.status ?? 'never'],
    ['frostkv_read_only', status.readOnly ? 1 : 0],
    ['frostkv_read_only_reason', persistence?.readOnlyReason ?? ''],
    // `bgsave`: waits for a live save; `snapshot`: for a periodic snapshot or a live save.
    ['frostkv_read_only_causes', persistence?.readOnlyCauses.join(',') ?? ''],
    ['frostkv_snapshots_skipped', persistence?.snapshot.skippedCount ?? 0],
  ];
}

function statsFields(src: InfoSource): Fields {
  const stats = src.view.stats;
  const persistence = src.db.status().persistence;
  let expired = 0;
  for (const table of src.databases.existing()) expired += table.expiredKeys;
  return [
    ['total_connections_received', stats.connectionsReceived],
    ['total_commands_processed', stats.commandsProcessed],
    ['instantaneous_ops_per_sec', stats.commands.opsPerSec()],
    ['rejected_connections', stats.connectionsRejected],
    ['expired_keys', expired],
    // frostkv never evicts keys (no maxmemory policy acts).
    ['evicted_keys', 0],
    // Redis 7's name for clients closed by maxmemory-clients; here, by request_buffers_max_bytes.
    ['evicted_clients', stats.clientsEvicted],
    ['keyspace_hits', stats.keyspaceHits],
    ['keyspace_misses', stats.keyspaceMisses],
    ['pubsub_channels', 0],
    ['pubsub_patterns', 0],
    ['latest_fork_usec', persistence?.last.cutPauseMs === null || persistence === null ? 0 : Math.round(persistence.last.cutPauseMs * 1000)],
    ['total_error_replies', stats.commands.totalErrorReplies],
  ];
}

function replicationFields(src: InfoSource): Fields {
  return [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', memo(src.view.stats).runId],
    ['master_replid2', '0'.repeat(40)],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
    ['repl_backlog_size', configValue(src.view.stats, 'repl-backlog-size')],
    ['repl_backlog_first_byte_offset', 0],
    ['repl_backlog_histlen', 0],
  ];
}

function cpuFields(): Fields {
  // The whole process (main thread and save workers); frostkv saves without child processes.
  const usage = process.cpuUsage();
  return [
    ['used_cpu_sys', cpuSeconds(usage.system)],
    ['used_cpu_user', cpuSeconds(usage.user)],
    ['used_cpu_sys_children', cpuSeconds(0)],
    ['used_cpu_user_children', cpuSeconds(0)],
  ];
}

function commandstatsFields(src: InfoSource): Fields {
  return src.view.stats.commands.commandEntries().map(([name, c]) => [
    `cmdstat_${name}`,
    `calls=${c.calls},usec=${c.usec},usec_per_call=${(c.calls === 0 ? 0 : c.usec / c.calls).toFixed(2)},rejected_calls=${c.rejected},failed_calls=${c.failed}`,
  ]);
}

function errorstatsFields(src: InfoSource): Fields {
  return src.view.stats.commands.errorEntries().map(([prefix, count]) => [`errorstat_${prefix}`, `count=${count}`]);
}

function keyspaceFields(src: InfoSource): Fields {
  const out: Fields = [];
  for (let index = 0; index < kRespDatabaseCount; index++) {
    if (index !== 0 && !src.databases.exists(src.databases.entity(index))) continue;
    const table = src.databases.table(index);
    const keys = table.size;
    const expires = table.expiringKeys;
    // avg_ttl is Redis's running estimate from its expire cycle; frostkv keeps none (0, as Redis without one).
    if (keys > 0 || expires > 0) out.push([`db${index}`, `keys=${keys},expires=${expires},avg_ttl=0`]);
  }
  return out;
}

function fields(src: InfoSource, name: Section): Fields {
  switch (name) {
    case 'server': return serverFields(src);
    case 'clients': return clientsFields(src);
    case 'memory': return memoryFields(src);
    case 'persistence': return persistenceFields(src);
    case 'stats': return statsFields(src);
    case 'replication': return replicationFields(src);
    case 'cpu': return cpuFields();
    case 'commandstats': return commandstatsFields(src);
    case 'errorstats': return errorstatsFields(src);
    case 'cluster': return [['cluster_enabled', 0]];
    case 'keyspace': return keyspaceFields(src);
    case 'modules':
    case 'latencystats':
      return [];
  }
}

/** The sections `INFO <requested...>` answers, in Redis's order. */
export function infoSections(requested: readonly string[]): Section[] {
  if (requested.length === 0) return kSectionOrder.filter((name) => kDefaultSections.has(name));
  const wanted = new Set<string>();
  let all = false;
  for (const asked of requested) {
    const name = asked.toLowerCase();
    if (name === 'all' || name === 'everything') all = true;
    else if (name === 'default') for (const section of kDefaultSections) wanted.add(section);
    else wanted.add(name === 'module_list' ? 'modules' : name);
  }
  return kSectionOrder.filter((name) => all || wanted.has(name));
}

/** INFO [section ...]. */
export function infoText(src: InfoSource, requested: readonly string[]): string {
  const blocks = infoSections(requested).map((name) => {
    const lines = fields(src, name).map(([field, value]) => `${field}:${clean(value)}`);
    return [`# ${kTitles[name]}`, ...lines].join('\r\n');
  });
  return blocks.length === 0 ? '' : `${blocks.join('\r\n\r\n')}\r\n`;
}
