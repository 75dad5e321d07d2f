/**
 * The TLS configuration rules: the RESP TLS port needs [ssl]'s certificate, collides like any
 * listener, and is documented in --help; the flags and variables reach the config.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { configError, load, TempDir } from '../config/support.js';
import { helpText } from '../../src/config/help.js';

const dir = new TempDir();
afterAll(() => dir.remove());

describe('resp.tls_port', () => {
  it('is read from the file, SKY_RESP_TLS_PORT and --resp-tls-port, and turns RESP on', () => {
    const ssl = ['--sslkey', 'k.pem', '--sslchain', 'c.pem'];
    expect(load(dir, { argv: [...ssl, '--resp-tls-port', '6380'] }).config.resp).toMatchObject({ enabled: true, tlsPort: 6380 });
    expect(load(dir, { argv: ssl, env: { SKY_RESP_TLS_PORT: '6381' } }).config.resp.tlsPort).toBe(6381);
    expect(load(dir, { argv: ssl, toml: '[resp]\ntls_port = 6382\n' }).config.resp.tlsPort).toBe(6382);
  });

  it('needs the [ssl] key and chain, whose certificate it serves', () => {
    const error = configError(() => load(dir, { argv: ['--resp-tls-port', '6380'] }));
    expect(error.code).toBe('ERR_CONFIG_MISSING');
    expect(error.message).toContain('`resp.tls_port` is set (from --resp-tls-port) but TLS is not configured');
  });

  it('collides with another listener on the same port', () => {
    const error = configError(() => load(dir, { argv: ['--sslkey', 'k', '--sslchain', 'c', '--resp-port', '7000', '--resp-tls-port', '7000'] }));
    expect(error.code).toBe('ERR_CONFIG_CONFLICT');
    expect(error.message).toContain('`resp.tls_port` = 7000 (from --resp-tls-port) collides with `resp.port` = 7000');
    const withSkyhash = configError(() => load(dir, { argv: ['--sslkey', 'k', '--sslchain', 'c', '--resp-tls-port', '2004'] }));
    expect(withSkyhash.message).toContain('collides with `ssl.port` = 2004');
  });

  it('is in --help, and TLS is no longer described as unavailable', () => {
    const help = helpText();
    expect(help).toContain('--resp-tls-port');
    expect(help).toContain('--tlspassin');
    expect(help).not.toMatch(/refuses to start with TLS|TLS[^.]*not available/i);
    expect(help).not.toContain('RESP has no TLS');
  });
});
