/**
 * Helpers for the config tests: real temp files for TOML, and a loader that returns either the
 * loaded config or the ConfigError it threw.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type LoadedConfig } from '../../src/config/load.js';

export class TempDir {
  readonly path: string;
  private count = 0;
  constructor() {
    this.path = mkdtempSync(join(tmpdir(), 'frostkv-config-'));
  }
  /** Write `text` to a fresh file in the temp dir and return its absolute path. */
  file(text: string, name?: string): string {
    const file = join(this.path, name ?? `config-${this.count++}.toml`);
    writeFileSync(file, text);
    return file;
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface LoadInput {
  toml?: string;
  argv?: string[];
  env?: Record<string, string>;
  openFilesLimit?: number | null;
}

export function load(dir: TempDir, input: LoadInput): LoadedConfig {
  const argv = [...(input.toml === undefined ? [] : ['-c', dir.file(input.toml)]), ...(input.argv ?? [])];
  return loadConfig({ argv, env: input.env ?? {}, cwd: dir.path, openFilesLimit: input.openFilesLimit ?? null });
}

/** The ConfigError `fn` throws; fails the test if it returns. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

export const kOriginKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
