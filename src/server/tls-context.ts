/**
 * Loads the TLS material of `[ssl]` (private key, certificate chain, passphrase file) into one
 * Node SecureContext that every TLS listener (Skyhash and RESP) shares.
 *
 * Guarantees:
 * - Every file is read here, once, at start-up, before any listener binds; a file that cannot
 *   be read is ERR_TLS_FILE naming the key path and the file.
 * - A key that does not parse, an encrypted key without `ssl.passin`, or a key that does not
 *   match the chain's certificate is ERR_TLS_KEY; a passphrase that does not decrypt the key
 *   is ERR_TLS_PASSPHRASE naming both files; a chain with no valid certificate is ERR_TLS_CERT.
 *   The passphrase itself never appears in a message.
 * - The passphrase is the first line of `ssl.passin` (what `openssl -passin file:` reads), so a
 *   file written by `echo secret > pass` works; Skytable 0.7 used the file's bytes unchanged.
 */

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ErrorCode, FrostError } from '../util/errors.js';

export interface TlsFiles {
  /** Path of the PEM private key (`ssl.key`). */
  key: string;
  /** Path of the PEM certificate chain (`ssl.chain`). */
  chain: string;
  /** Path of a file whose first line is the key's passphrase (`ssl.passin`), or null. */
  passin: string | null;
}

function readTlsFile(keyPath: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new FrostError(ErrorCode.tlsFileUnreadable, `cannot read the TLS file \`${keyPath}\` = ${file}: ${reason} (${(error as Error).message})`, { cause: error });
  }
}

/** The first line of the passphrase file, without its line ending. */
export function passphraseOf(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}

function opensslCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}

function checkKey(files: TlsFiles, key: Buffer, passphrase: string | undefined): void {
  const encrypted = key.includes('ENCRYPTED');
  try {
    createPrivateKey(passphrase === undefined ? { key } : { key, passphrase });
  } catch (error) {
    const code = opensslCode(error);
    if (encrypted && passphrase === undefined) {
      throw new FrostError(ErrorCode.tlsBadKey, `the TLS private key \`ssl.key\` = ${files.key} is encrypted: give the file holding its passphrase with \`ssl.passin\` (--tlspassin)`, { cause: error });
    }
    if (encrypted && (code.endsWith('BAD_DECRYPT') || /decrypt/i.test((error as Error).message))) {
      throw new FrostError(ErrorCode.tlsBadPassphrase, `the passphrase in \`ssl.passin\` = ${files.passin ?? ''} does not decrypt the TLS private key \`ssl.key\` = ${files.key}`, { cause: error });
    }
    throw new FrostError(ErrorCode.tlsBadKey, `the TLS private key \`ssl.key\` = ${files.key} is not a valid PEM private key (${(error as Error).message})`, { cause: error });
  }
}

function checkChain(files: TlsFiles, chain: Buffer): void {
  try {
    new X509Certificate(chain);
  } catch (error) {
    throw new FrostError(ErrorCode.tlsBadCertificate, `the TLS certificate chain \`ssl.chain\` = ${files.chain} holds no valid PEM certificate (${(error as Error).message})`, { cause: error });
  }
}

/** Read and check the files, and build the context every TLS listener serves with. */
export function loadTlsContext(files: TlsFiles): SecureContext {
  const key = readTlsFile('ssl.key', files.key);
  const chain = readTlsFile('ssl.chain', files.chain);
  const passphrase = files.passin === null ? undefined : passphraseOf(readTlsFile('ssl.passin', files.passin));
  checkKey(files, key, passphrase);
  checkChain(files, chain);
  try {
    return createSecureContext(passphrase === undefined ? { key, cert: chain } : { key, cert: chain, passphrase });
  } catch (error) {
    // Both parsed on their own, so what is left is the pair: the key is not the certificate's.
    throw new FrostError(ErrorCode.tlsBadKey, `the TLS private key \`ssl.key\` = ${files.key} cannot serve the certificate chain \`ssl.chain\` = ${files.chain} (${(error as Error).message})`, { cause: error });
  }
}
