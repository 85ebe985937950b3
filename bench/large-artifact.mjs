#!/usr/bin/env node
// One large artifact up and down through the built server (`npm run build` first):
// wall time, throughput and the server's peak RSS (VmHWM); every byte is verified afterwards.
//   node bench/large-artifact.mjs [sizeMiB=1024]
import { randomBytes } from 'node:crypto';
import { peakRssMiB, startTeamcache } from './lib/servers.mjs';
import { download, sha256Of, upload } from './lib/transfer.mjs';

const sizeMiB = Number(process.argv[2] ?? 1024);
const size = sizeMiB * 1024 * 1024;
const server = await startTeamcache();
try {
  const hash = randomBytes(8).toString('hex');
  const chunk = randomBytes(1024 * 1024);
  let started = process.hrtime.bigint();
  await upload(server.url, server.token, hash, size, chunk);
  const upSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  started = process.hrtime.bigint();
  await download(server.url, server.token, hash, '', { hash: false });
  const downSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Verified off the clock: one more download, hashed.
  const sent = sha256Of(size, chunk);
  const received = await download(server.url, server.token, hash);
  const mb = size / 1e6;
  console.log(
    JSON.stringify(
      {
        sizeMiB,
        upload: { seconds: +upSeconds.toFixed(2), MBps: +(mb / upSeconds).toFixed(1) },
        download: { seconds: +downSeconds.toFixed(2), MBps: +(mb / downSeconds).toFixed(1) },
        bytesVerified: sent === received,
        serverPeakRssMiB: +peakRssMiB(server.pid).toFixed(1),
      },
      null,
      2,
    ),
  );
  if (sent !== received) process.exitCode = 1;
} finally {
  await server.stop();
}
