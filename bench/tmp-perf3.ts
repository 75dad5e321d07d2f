import { Table } from '../src/table/table.js';
const N = 1_000_000;
const val = 'x'.repeat(64);
const vbuf = Buffer.from(val);
function time(name: string, f: () => void) { const t0 = process.hrtime.bigint(); f(); const ms = Number(process.hrtime.bigint() - t0) / 1e6; console.log(name.padEnd(24), (N / ms * 1000 / 1e6).toFixed(2), 'M/s'); }
for (let round = 0; round < 2; round++) {
const m = new Map<string, string>();
time('map insert fresh keys', () => { for (let i = 0; i < N; i++) m.set('key:' + i, val); });
time('map update fresh keys', () => { for (let i = 0; i < N; i++) m.set('key:' + i, val); });
time('map get fresh keys', () => { let s = 0; for (let i = 0; i < N; i++) s += m.get('key:' + i)!.length; });
const t = new Table();
time('tbl insert str/str', () => { for (let i = 0; i < N; i++) t.set('key:' + i, val); });
time('tbl update str/str', () => { for (let i = 0; i < N; i++) t.set('key:' + i, val); });
time('tbl update str/buf', () => { for (let i = 0; i < N; i++) t.set('key:' + i, vbuf); });
time('tbl getString', () => { let s = 0; for (let i = 0; i < N; i++) s += t.getString('key:' + i)!.length; });
time('tbl get', () => { let s = 0; for (let i = 0; i < N; i++) s += t.get('key:' + i)!.length; });
const t2 = new Table();
time('tbl insert str/buf', () => { for (let i = 0; i < N; i++) t2.set('key:' + i, vbuf); });
}
