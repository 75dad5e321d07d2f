/**
 * The server's logger: pino, human-readable by default (the message alone, one line each),
 * JSON lines on request (`[log] format = "json"`, --log-format json).
 *
 * Guarantees:
 * - Returns the project's Logger interface (message + fields), so persistence and the servers
 *   never depend on pino directly.
 * - Pretty lines are the timestamp, level and message: the fields are for machines (JSON) and
 *   every message already states its figures in words.
 * - A JSON line holds each key once: fields named like pino's own keys (`pid`, `time`, ...)
 *   are dropped, because pino writes those itself.
 * - Lines are written synchronously (none is lost at exit), and logging never throws or
 *   crashes the server: once the output is gone (a closed terminal or pipe: EPIPE, EIO) lines
 *   are dropped and serving goes on.
 */

import { writeSync } from 'node:fs';
import { pino, type Logger as Pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config/types.js';
import type { LogFields, Logger } from '../util/log.js';

/** Keys pino writes on every line; a field of the same name would repeat them. */
const kReservedKeys = new Set(['level', 'time', 'pid', 'hostname', 'msg']);
/** A full pipe (EAGAIN) is retried this many times, this long apart, before the line is dropped. */
const kBusyRetriesMax = 50;
const kBusyRetryWaitMs = 10;
const kSleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Synchronous line writes to a file descriptor that never throw (see the header). */
export class LogDestination {
  private readonly fd: number;
  private readonly format: (line: string) => string;
  private gone = false;
  /** Lines dropped because the output was gone. */
  dropped = 0;

  constructor(fd: number, format: (line: string) => string = (line) => line) {
    this.fd = fd;
    this.format = format;
  }

  write(line: string): void {
    if (this.gone) {
      this.dropped++;
      return;
    }
    const bytes = Buffer.from(this.format(line), 'utf8');
    let offset = 0;
    let busyRetries = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.fd, bytes, offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EBUSY') && busyRetries++ < kBusyRetriesMax) {
          Atomics.wait(kSleepCell, 0, 0, kBusyRetryWaitMs);
          continue;
        }
        this.gone = true;
        this.dropped++;
        return;
      }
    }
  }
}

function withoutReservedKeys(fields: LogFields): LogFields {
  let clean: LogFields | null = null;
  for (const key of Object.keys(fields)) {
    if (!kReservedKeys.has(key)) continue;
    clean ??= { ...fields };
    delete clean[key];
  }
  return clean ?? fields;
}

/** pino's JSON line as `[time] LEVEL: message`, always ending in a newline. */
function prettyLine(): (line: string) => string {
  const format = prettyFactory({
    colorize: false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
    hideObject: true,
  });
  return (line) => {
    const text = format(line);
    return text.endsWith('\n') ? text : `${text}\n`;
  };
}

/** A logger writing to `fd` (stdout by default). */
export function createLogger(format: LogFormat, level: LogLevel, fd = 1): Logger & { pino: Pino; destination: LogDestination } {
  const destination =
    format === 'json'
      ? new LogDestination(fd)
      : new LogDestination(fd, prettyLine());
  const instance = pino({ level, base: { pid: process.pid } }, destination);
  const emit = (method: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void => {
    if (fields === undefined) instance[method](message);
    else instance[method](withoutReservedKeys(fields), message);
  };
  return {
    pino: instance,
    destination,
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}
