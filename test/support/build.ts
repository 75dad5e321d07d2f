/**
 * A compiled build of frostkv for tests that must run the real server binary (the kill -9
 * harness): `tsc -p tsconfig.build.json` into a folder of this repository (so the build
 * resolves node_modules), once per test file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const kRepoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Build into `.vitest-tmp/<name>` and return the CLI entry (`src/cli/main.js`) and a cleanup. */
export function buildServer(name: string): { entry: string; remove(): void } {
  const outDir = join(kRepoRoot, '.vitest-tmp', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The package's exports hide bin/tsc from resolution; its path inside node_modules is stable.
  const tsc = join(kRepoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(kRepoRoot, 'tsconfig.build.json'), '--outDir', outDir], { cwd: kRepoRoot, stdio: 'pipe' });
  return { entry: join(outDir, 'src', 'cli', 'main.js'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}
