import { describe, expect, it } from 'vitest';
import { SkyClient } from '../support/skyhash.js';
import { startInProcess } from '../support/server.js';

describe('server smoke', () => {
  it('answers a Skyhash query over a real socket', async () => {
    const server = await startInProcess();
    const client = await SkyClient.connect(server.port);
    expect(await client.run('SET', 'x', '100')).toBe('*1\n!1\n0\n');
    expect(await client.run('GET', 'x')).toBe('*1\n?3\n100\n');
    client.close();
    await server.stop();
  });
});
