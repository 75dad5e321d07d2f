import { Table } from '../src/table/table.js';
const N = Number(process.argv[2] ?? 1_000_000);
const pad = 'x'.repeat(54);
function time(name: string, f: () => void) { const t0 = process.hrtime.bigint(); f(); const ms = Number(process.hrtime.bigint() - t0) / 1e6; console.log(name.padEnd(24), (N / ms * 1000 / 1e6).toFixed(2), 'M/s', (process.memoryUsage().heapUsed/1e6).toFixed(0),'MB heap'); }
for (let round = 0; round < 2; round++) {
let m: Map<string, string> | null = new Map<string, string>();
time('map insert', () => { for (let i = 0; i < N; i++) m!.set('key:' + i, pad + i); });
time('map update', () => { for (let i = 0; i < N; i++) m!.set('key:' + i, pad + (i+1)); });
time('map get', () => { let s = 0; for (let i = 0; i < N; i++) s += m!.get('key:' + i)!.length; });
m = null; (globalThis as any).gc?.();
let t: Table | null = new Table();
time('tbl insert', () => { for (let i = 0; i < N; i++) t!.set('key:' + i, pad + i); });
time('tbl update', () => { for (let i = 0; i < N; i++) t!.set('key:' + i, pad + (i+1)); });
time('tbl getString', () => { let s = 0; for (let i = 0; i < N; i++) s += t!.getString('key:' + i)!.length; });
t = null; (globalThis as any).gc?.();
}
