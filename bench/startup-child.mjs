/**
 * Child process for bench/snapshot.ts's startup figure: a fresh process opens an existing data
 * directory and reports how long `open()` took, then closes without saving and exits.
 *
 *   node bench/startup-child.mjs <api module URL> <dataDir> <expected keys> <worker threads>
 *
 * Plain JavaScript so it can run a compiled build (dist-style `src/index.js`, whose worker pool
 * then starts the compiled `workers/persist-worker.js`) without tsx, the way a deployed server
 * starts. Prints one JSON line on stdout: { openMs, keyCount }.
 */

const [apiUrl, dataDir, expectedKeys, threads] = process.argv.slice(2);
if (apiUrl === undefined || dataDir === undefined || expectedKeys === undefined) {
  process.stderr.write('usage: startup-child.mjs <api module URL> <dataDir> <expected keys> [threads]\n');
  process.exit(2);
}
const { open } = await import(apiUrl);
const config = { server: { dataDir }, bgsave: { enabled: false, every: 120 }, workers: { threads: Number(threads ?? 0) } };
const started = performance.now();
const db = await open(config, { saveOnShutdown: false });
const openMs = performance.now() - started;
const keyCount = db.status().keyCount;
await db.close();
if (keyCount !== Number(expectedKeys)) {
  process.stderr.write(`startup child: opened ${keyCount} keys, expected ${expectedKeys}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ openMs, keyCount })}\n`);
