const sab = new SharedArrayBuffer(1 << 20);
const heap = new Uint8Array(sab);
const hb = Buffer.from(sab);
const src = Buffer.from('x'.repeat(64));
const N = 2_000_000;
function time(name: string, f: () => number) { const t0 = performance.now(); const r = f(); const ns = (performance.now() - t0) * 1e6 / N; console.log(name.padEnd(28), ns.toFixed(1), 'ns', r); }
function loopCopy(dst: Uint8Array, d: number, s: Uint8Array, so: number, n: number) { for (let i = 0; i < n; i++) dst[d + i] = s[so + i]!; }
const bcopy = Buffer.prototype.copy;
for (let r = 0; r < 2; r++) {
time('loop copy 64', () => { let o = 0; for (let i = 0; i < N; i++) { loopCopy(heap, o, src, 0, 64); o = (o + 64) & 0xfffff; } return o; });
time('set(subarray) 64', () => { let o = 0; for (let i = 0; i < N; i++) { heap.set(src.subarray(0, 64), o); o = (o + 64) & 0xfffff; } return o; });
time('Buffer.copy 64', () => { let o = 0; for (let i = 0; i < N; i++) { src.copy(hb, o, 0, 64); o = (o + 64) & 0xfffff; } return o; });
time('bcopy.call(u8) 64', () => { let o = 0; const u = new Uint8Array(src.buffer, src.byteOffset, 64); for (let i = 0; i < N; i++) { bcopy.call(u, hb, o, 0, 64); o = (o + 64) & 0xfffff; } return o; });
const str = 'x'.repeat(64);
time('ascii str loop write 64', () => { let o = 0; for (let i = 0; i < N; i++) { for (let j = 0; j < 64; j++) { const c = str.charCodeAt(j); if (c > 127) break; heap[o + j] = c; } o = (o + 64) & 0xfffff; } return o; });
time('hb.write latin1 64', () => { let o = 0; for (let i = 0; i < N; i++) { hb.write(str, o, 'latin1'); o = (o + 64) & 0xfffff; } return o; });
time('hb.latin1Write 64', () => { let o = 0; for (let i = 0; i < N; i++) { (hb as any).latin1Write(str, o, 64); o = (o + 64) & 0xfffff; } return o; });
time('hb.utf8Write 64', () => { let o = 0; for (let i = 0; i < N; i++) { (hb as any).utf8Write(str, o, 64); o = (o + 64) & 0xfffff; } return o; });
time('toString utf8', () => { let s = 0; for (let i = 0; i < N; i++) { s += hb.toString('utf8', 64, 128).length; } return s; });
time('utf8Slice', () => { let s = 0; for (let i = 0; i < N; i++) { s += (hb as any).utf8Slice(64, 128).length; } return s; });
time('latin1Slice', () => { let s = 0; for (let i = 0; i < N; i++) { s += (hb as any).latin1Slice(64, 128).length; } return s; });
time('asciiSlice', () => { let s = 0; for (let i = 0; i < N; i++) { s += (hb as any).asciiSlice(64, 128).length; } return s; });
const td = new TextDecoder();
time('TextDecoder', () => { let s = 0; for (let i = 0; i < N; i++) { s += td.decode(heap.subarray(64, 128)).length; } return s; });
time('allocUnsafe64+loop', () => { let s = 0; for (let i = 0; i < N; i++) { const b = Buffer.allocUnsafe(64); loopCopy(b, 0, heap, 64, 64); s += b.length; } return s; });
time('allocUnsafe64+copy', () => { let s = 0; for (let i = 0; i < N; i++) { const b = Buffer.allocUnsafe(64); hb.copy(b, 0, 64, 128); s += b.length; } return s; });
}
const sc = new Uint8Array(256);
const keys: string[] = []; for (let i = 0; i < N; i++) keys.push('key:' + i);
function h1(s: string) { let h = 0x811c9dc5 | 0; for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c > 127) return -1; sc[i] = c; h = Math.imul(h ^ c, 0x01000193); } return h >>> 0; }
time('hash str key', () => { let s = 0; for (let i = 0; i < N; i++) s ^= h1(keys[i]!); return s; });
time('hash fresh str key', () => { let s = 0; for (let i = 0; i < N; i++) s ^= h1('key:' + i); return s; });
time('byteLength', () => { let s = 0; for (let i = 0; i < N; i++) s += Buffer.byteLength(keys[i]!); return s; });
const bcp = Buffer.prototype.copy;
time('bcopy u8->u8 64', () => { let o = 0; const u = new Uint8Array(src.buffer, src.byteOffset, 64); for (let i = 0; i < N; i++) { bcp.call(u, heap, o, 0, 64); o = (o + 64) & 0xfffff; } return o; });
time('bcopy u8->u8 16', () => { let o = 0; const u = new Uint8Array(src.buffer, src.byteOffset, 64); for (let i = 0; i < N; i++) { bcp.call(u, heap, o, 0, 16); o = (o + 64) & 0xfffff; } return o; });
time('loop u8->u8 16', () => { let o = 0; const u = new Uint8Array(64); for (let i = 0; i < N; i++) { loopCopy(heap, o, u, 0, 16); o = (o + 64) & 0xfffff; } return o; });
