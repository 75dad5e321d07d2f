/**
 * RESP INFO sections and CONFIG GET answers (docs/behaviour.md, RESP2).
 *
 * Guarantees: INFO persistence carries the status listed in docs/persistence.md (Status) under Redis's field names
 * where one exists (rdb_changes_since_last_save, rdb_bgsave_in_progress, rdb_last_save_time,
 * rdb_last_bgsave_status, rdb_last_bgsave_time_sec, current_cow_size, ...) plus frostkv's own
 * (`frostkv_*`: cut pause, snapshot count, read-only state, last error); every line is
 * `field:value` with no CR or LF inside a value.
 */

import { arch, hostname, platform, release } from 'node:os';
import type { Database } from '../../database.js';
import { kVersion } from '../../version.js';
import type { ServerView } from '../stats.js';

/** Redis version frostkv reports, so clients that check versions enable RESP2-era features. */
export const kRedisCompatVersion = '7.0.0';

const kSections = ['server', 'clients', 'memory', 'persistence', 'stats', 'keyspace'] as const;
type Section = (typeof kSections)[number];

function clean(value: unknown): string {
  return String(value).replace(/[\r\n]/g, ' ');
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['K', 'M', 'G', 'T'];
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

function section(db: Database, view: ServerView, name: Section, tableEntity: string): Array<[string, unknown]> {
  const status = db.status();
  const persistence = status.persistence;
  const memory = process.memoryUsage();
  switch (name) {
    case 'server': {
      const uptimeSeconds = Math.floor((Date.now() - view.stats.startedAtMs) / 1000);
      return [
        ['redis_version', kRedisCompatVersion],
        ['frostkv_version', kVersion],
        ['redis_mode', 'standalone'],
        ['os', `${platform()} ${release()} ${arch()}`],
        ['arch_bits', arch().includes('64') ? 64 : 32],
        ['process_id', process.pid],
        ['tcp_port', view.respPort()],
        ['frostkv_skyhash_port', view.skyhashPort()],
        ['frostkv_table', tableEntity],
        ['server_time_usec', Date.now() * 1000],
        ['uptime_in_seconds', uptimeSeconds],
        ['uptime_in_days', Math.floor(uptimeSeconds / 86_400)],
        ['hz', 10],
        ['executable', process.argv[1] ?? ''],
        ['config_file', view.configFile ?? ''],
        ['host', hostname()],
        ['node_version', process.version],
      ];
    }
    case 'clients':
      return [
        ['connected_clients', view.connectionCount()],
        ['maxclients', view.maxclient()],
        ['blocked_clients', 0],
      ];
    case 'memory': {
      const used = status.dataBytes + memory.heapUsed;
      return [
        ['used_memory', used],
        ['used_memory_human', human(used)],
        ['used_memory_rss', memory.rss],
        ['used_memory_rss_human', human(memory.rss)],
        ['used_memory_dataset', status.dataBytes],
        ['frostkv_js_heap_used', memory.heapUsed],
        ['frostkv_shared_buffers', memory.arrayBuffers],
        ['maxmemory', 0],
        ['maxmemory_policy', 'noeviction'],
        ['mem_fragmentation_ratio', used > 0 ? (memory.rss / used).toFixed(2) : '0.00'],
      ];
    }
    case 'persistence': {
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
        ['rdb_last_save_time', Math.floor((lastSave ?? view.stats.startedAtMs) / 1000)],
        ['rdb_last_bgsave_status', bgsave?.status === 'err' ? 'err' : 'ok'],
        ['rdb_last_bgsave_time_sec', bgsave?.durationMs === null || bgsave === undefined ? -1 : seconds(bgsave.durationMs)],
        ['rdb_current_bgsave_time_sec', saving === null ? -1 : seconds(Date.now() - saving.startedAtMs)],
        ['rdb_last_cow_size', persistence?.cowBytesPeak ?? 0],
        ['aof_enabled', 0],
        ['aof_rewrite_in_progress', 0],
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
    case 'stats':
      return [
        ['total_connections_received', view.stats.connectionsReceived],
        ['total_commands_processed', view.stats.commandsProcessed],
        ['rejected_connections', view.stats.connectionsRejected],
        // Redis 7's name for clients closed by maxmemory-clients; here, by request_buffers_max_bytes.
        ['evicted_clients', view.stats.clientsEvicted],
        ['keyspace_hits', view.stats.keyspaceHits],
        ['keyspace_misses', view.stats.keyspaceMisses],
        ['expired_keys', 0],
        ['evicted_keys', 0],
        ['latest_fork_usec', persistence?.last.cutPauseMs === null || persistence === null ? 0 : Math.round(persistence.last.cutPauseMs * 1000)],
      ];
    case 'keyspace': {
      const keys = db.engine.table(tableEntity).size;
      return keys === 0 ? [] : [['db0', `keys=${keys},expires=0,avg_ttl=0`]];
    }
  }
}

/** INFO [section ...]: `default`, `all` and `everything` mean every section. */
export function infoText(db: Database, view: ServerView, tableEntity: string, requested: string[]): string {
  const wanted = requested.map((name) => name.toLowerCase());
  const all = wanted.length === 0 || wanted.some((name) => name === 'all' || name === 'default' || name === 'everything');
  const names = kSections.filter((name) => all || wanted.includes(name));
  if (names.length === 0) return '';
  const blocks = names.map((name) => {
    const title = name.charAt(0).toUpperCase() + name.slice(1);
    const lines = section(db, view, name, tableEntity).map(([field, value]) => `${field}:${clean(value)}`);
    return [`# ${title}`, ...lines].join('\r\n');
  });
  return `${blocks.join('\r\n\r\n')}\r\n`;
}

/** CONFIG GET: what frostkv knows, under Redis's parameter names (glob patterns allowed). */
export function configPairs(db: Database, view: ServerView): Array<[string, string]> {
  const config = db.config;
  return [
    ['save', config.bgsave.enabled ? `${config.bgsave.every} 1` : ''],
    ['appendonly', 'no'],
    ['dir', db.persistence?.dataDir ?? ''],
    ['dbfilename', 'ks'],
    ['port', String(view.respPort())],
    ['bind', config.resp.host],
    ['maxclients', String(view.maxclient())],
    ['databases', '1'],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['timeout', String(config.limits.idleTimeoutSeconds)],
    ['proto-max-bulk-len', String(config.limits.valueMaxBytes)],
    ['stop-writes-on-bgsave-error', 'yes'],
  ];
}
