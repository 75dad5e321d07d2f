import { describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

describe('free ports for test and bench servers', () => {
  it('never hands out one port twice in a process (the kernel may repeat a port between probes)', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) expect(port).toBeGreaterThan(0);
  });
});
