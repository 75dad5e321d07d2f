/**
 * The logging interface persistence and the servers write to. The server adapts pino to it;
 * embedded users may pass their own or get the silent default.
 *
 * Guarantees: callers pass a human sentence and structured fields separately, so JSON logs keep
 * the figures machine-readable and pretty logs stay readable.
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that keeps every line in memory (tests and the offline CLI's summaries). */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields: LogFields | undefined }> = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', message, fields });
  }
  has(level: string, pattern: RegExp): boolean {
    return this.lines.some((line) => line.level === level && pattern.test(line.message));
  }
}

/**
 * The embedded default: warnings and errors to stderr, one line each, so a failing save is
 * never silent; pass `silentLogger` (or your own) to `open()` to change that.
 */
export const stderrLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => {
    process.stderr.write(`frostkv warn: ${message}\n`);
  },
  error: (message) => {
    process.stderr.write(`frostkv error: ${message}\n`);
  },
};
