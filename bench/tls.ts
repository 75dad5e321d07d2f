/**
 * Throughput over TLS against plain TCP, for Skyhash and RESP on frostkv and for Redis 7 when
 * redis-server is installed (Debian's is built with TLS: `--tls-port`).
 *
 * Each scenario runs `--clients` connections, each keeping `--pipeline` upserts in flight
 * (Skyhash USET, RESP SET on distinct keys), for `--seconds`; plain and TLS alternate per round
 * so drift hits both alike. One JSON line per scenario: the median ops/s over the rounds, and
 * for TLS the cost against plain of the same server and protocol.
 *
 *   npx tsx bench/tls.ts [--smoke] [--seconds 5] [--rounds 3] [--clients 8] [--pipeline 32]
 *
 * The certificate is generated with the `openssl` CLI at start (RSA 2048, self-signed).
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { FrostServerProcess } from './net-frostkv.js';
import { freePort, redisInstalled } from './redis-peer.js';
import { argNumber, emit, median, modeOf, note, sleep } from './support.js';

const kBench = 'tls';
const mode = modeOf(process.argv);
const seconds = argNumber(process.argv, '--seconds', mode === 'smoke' ? 0.3 : 5);
const rounds = argNumber(process.argv, '--rounds', mode === 'smoke' ? 1 : 3);
const clients = argNumber(process.argv, '--clients', mode === 'smoke' ? 2 : 8);
const pipeline = argNumber(process.argv, '--pipeline', mode === 'smoke' ? 4 : 32);
/** A server gets this long to open its ports. */
const kStartTimeoutMs = 20_000;
const kValue = 'v'.repeat(64);

interface Target {
  system: 'frostkv' | 'redis';
  protocol: 'skyhash' | 'resp';
  port: number;
  tls: boolean;
}

interface Certificate {
  dir: string;
  key: string;
  chain: string;
  ca: Buffer;
}

function makeCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'frostkv-bench-tls-'));
  const key = join(dir, 'key.pem');
  const chain = join(dir, 'chain.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', chain, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { dir, key, chain, ca: readFileSync(chain) };
}

function request(protocol: Target['protocol'], key: string): Buffer {
  if (protocol === 'resp') return Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${kValue.length}\r\n${kValue}\r\n`);
  return Buffer.from(`*1\n~3\n4\nUSET\n${key.length}\n${key}\n${kValue.length}\n${kValue}\n`);
}

function open(target: Target, ca: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tlsConnect({ port: target.port, host: '127.0.0.1', ca, servername: 'localhost' }, () => resolve(socket))
      : netConnect(target.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    socket.setNoDelay(true);
  });
}

/** The length of one reply (every upsert's reply has the same bytes), from one round trip. */
async function replyLength(socket: Socket, protocol: Target['protocol']): Promise<number> {
  let received = 0;
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
  };
  socket.on('data', onData);
  socket.write(request(protocol, 'calibrate'));
  const deadline = Date.now() + 2_000;
  while (received === 0 && Date.now() < deadline) await sleep(5);
  await sleep(50);
  socket.off('data', onData);
  if (received === 0) throw new Error(`no reply from ${protocol} on calibration`);
  return received;
}

/** One connection's loop: `pipeline` requests out, wait for all their reply bytes, repeat. */
async function drive(socket: Socket, target: Target, client: number, replyBytes: number, untilMs: number): Promise<number> {
  let done = 0;
  let counter = 0;
  while (Date.now() < untilMs) {
    const batch: Buffer[] = [];
    for (let i = 0; i < pipeline; i++) batch.push(request(target.protocol, `k${client}:${counter++ % 10_000}`));
    await new Promise<void>((resolve, reject) => {
      let expected = replyBytes * pipeline;
      const onData = (chunk: Buffer): void => {
        expected -= chunk.length;
        if (expected <= 0) {
          socket.off('data', onData);
          socket.off('error', reject);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(Buffer.concat(batch));
    });
    done += pipeline;
  }
  return done;
}

async function measure(target: Target, ca: Buffer): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => open(target, ca)));
  const replyBytes = await replyLength(sockets[0] as Socket, target.protocol);
  const started = Date.now();
  const untilMs = started + seconds * 1000;
  const counts = await Promise.all(sockets.map((socket, client) => drive(socket, target, client, replyBytes, untilMs)));
  const elapsedS = (Date.now() - started) / 1000;
  for (const socket of sockets) socket.destroy();
  return counts.reduce((a, b) => a + b, 0) / elapsedS;
}

async function startRedis(cert: Certificate, port: number, tlsPort: number): Promise<ChildProcess> {
  const redis = redisInstalled();
  if (redis === null) throw new Error('redis-server is not installed');
  const child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--port', String(port), '--tls-port', String(tlsPort), '--tls-cert-file', cert.chain, '--tls-key-file', cert.key, '--tls-ca-cert-file', cert.chain, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  const deadline = Date.now() + kStartTimeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return child;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start with --tls-port');
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const cert = makeCertificate();
  const [sslPort, respTlsPort] = [await freePort(), await freePort()];
  const frost = await FrostServerProcess.start({
    resp: true,
    extraArgs: ['--sslkey', cert.key, '--sslchain', cert.chain, '--sslport', String(sslPort), '--resp-tls-port', String(respTlsPort)],
  });
  let redis: ChildProcess | null = null;
  const pairs: Array<[Target, Target]> = [
    [{ system: 'frostkv', protocol: 'skyhash', port: frost.skyhashPort, tls: false }, { system: 'frostkv', protocol: 'skyhash', port: sslPort, tls: true }],
    [{ system: 'frostkv', protocol: 'resp', port: frost.respPort as number, tls: false }, { system: 'frostkv', protocol: 'resp', port: respTlsPort, tls: true }],
  ];
  if (redisInstalled() !== null) {
    const [port, tlsPort] = [await freePort(), await freePort()];
    redis = await startRedis(cert, port, tlsPort);
    pairs.push([{ system: 'redis', protocol: 'resp', port, tls: false }, { system: 'redis', protocol: 'resp', port: tlsPort, tls: true }]);
    emit(kBench, 'peer', { peer: 'redis', status: 'installed', version: redisInstalled()?.serverVersion });
  } else {
    note('redis-server not installed: no Redis TLS figures');
    emit(kBench, 'peer', { peer: 'redis', status: 'not installed' });
  }
  try {
    for (const [plain, secure] of pairs) {
      const plainOps: number[] = [];
      const tlsOps: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so warm-up and drift do not favour one side.
        const order = round % 2 === 0 ? [plain, secure] : [secure, plain];
        for (const target of order) (target.tls ? tlsOps : plainOps).push(await measure(target, cert.ca));
      }
      const [plainMedian, tlsMedian] = [median(plainOps), median(tlsOps)];
      const common = { system: plain.system, protocol: plain.protocol, clients, pipeline, seconds, rounds };
      emit(kBench, `${plain.system}-${plain.protocol}-plain`, { ...common, tls: false, opsPerSec: plainMedian, rounds_opsPerSec: plainOps });
      emit(kBench, `${plain.system}-${plain.protocol}-tls`, { ...common, tls: true, opsPerSec: tlsMedian, rounds_opsPerSec: tlsOps, costVsPlainPct: (1 - tlsMedian / plainMedian) * 100 });
    }
  } finally {
    redis?.kill('SIGKILL');
    await frost.stop();
    rmSync(cert.dir, { recursive: true, force: true });
  }
}

await main();
