/**
 * The server's logger: pino, human-readable by default (pino-pretty, synchronous so lines are
 * never lost at exit), JSON lines on request (`[log] format = "json"`, --log-format json).
 *
 * Guarantees: returns the project's Logger interface (message + fields), so persistence and
 * the servers never depend on pino directly.
 */

import { pino, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config/types.js';
import type { LogFields, Logger } from '../util/log.js';

export function createLogger(format: LogFormat, level: LogLevel, destination: NodeJS.WritableStream = process.stdout): Logger & { pino: Pino } {
  const base = { level, base: { pid: process.pid } };
  const instance =
    format === 'json'
      ? pino(base, pino.destination({ dest: (destination as { fd?: number }).fd ?? 1, sync: true }))
      : pino(
          base,
          pretty({
            destination,
            sync: true,
            colorize: false,
            translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
            ignore: 'pid,hostname',
            singleLine: true,
          }),
        );
  const emit = (method: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void => {
    if (fields === undefined) instance[method](message);
    else instance[method](fields, message);
  };
  return {
    pino: instance,
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}
