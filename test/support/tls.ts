/**
 * TLS material for tests, generated at test time with the `openssl` CLI (no key is committed):
 * a self-signed certificate for localhost / 127.0.0.1, its private key in the clear and
 * encrypted (AES-256), and passphrase files (right, with a trailing newline as `echo` writes
 * it, and wrong).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

export interface TlsFixture {
  dir: string;
  /** PEM certificate (self-signed; also the CA a client trusts). */
  chain: string;
  /** Unencrypted PEM private key. */
  key: string;
  /** The same key, encrypted with the passphrase in `passin`. */
  encryptedKey: string;
  passin: string;
  wrongPassin: string;
  /** A second key that does not match the certificate. */
  otherKey: string;
  /** The certificate's bytes, for a client's `ca`. */
  ca: Buffer;
}

export const kTestPassphrase = 'frost correct horse';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTlsFixture(): TlsFixture {
  const dir = tempDir('frostkv-tls-');
  const at = (name: string): string => join(dir, name);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('key.pem'), '-out', at('chain.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  writeFileSync(at('pass.txt'), `${kTestPassphrase}\n`);
  writeFileSync(at('wrong-pass.txt'), 'not the passphrase\n');
  openssl(['pkey', '-in', at('key.pem'), '-aes256', '-passout', `file:${at('pass.txt')}`, '-out', at('key-encrypted.pem')]);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('other-key.pem')]);
  return {
    dir,
    chain: at('chain.pem'),
    key: at('key.pem'),
    encryptedKey: at('key-encrypted.pem'),
    passin: at('pass.txt'),
    wrongPassin: at('wrong-pass.txt'),
    otherKey: at('other-key.pem'),
    ca: readFileSync(at('chain.pem')),
  };
}
