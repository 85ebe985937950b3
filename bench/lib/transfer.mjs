// Streaming one artifact up or down with http, never the whole body in memory. Timed transfers
// do no hashing (on a 2-core machine the client's sha256 would compete with the server it
// measures); the bytes are verified afterwards with sha256Of / download.
import { createHash } from 'node:crypto';
import * as http from 'node:http';

/** The sha256 of the body `upload(…, size, chunk)` sends. */
export function sha256Of(size, chunk) {
  const digest = createHash('sha256');
  for (let sent = 0; sent < size; sent += chunk.length) {
    digest.update(chunk.subarray(0, Math.min(chunk.length, size - sent)));
  }
  return digest.digest('hex');
}

/** PUT `size` bytes made of repeated `chunk`; resolves once the server answered 2xx. */
export function upload(baseUrl, token, hash, size, chunk, query = '') {
  const url = new URL(`/v8/artifacts/${hash}${query}`, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(size), 'Content-Type': 'application/octet-stream', 'x-artifact-duration': '1000' },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** GET an artifact; resolves to its sha256, or with `{ hash: false }` to its byte count. */
export function download(baseUrl, token, hash, query = '', { hash: hashing = true } = {}) {
  const url = new URL(`/v8/artifacts/${hash}${query}`, baseUrl);
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${res.statusCode}`));
      const digest = hashing ? createHash('sha256') : null;
      let bytes = 0;
      res.on('data', (c) => (digest ? digest.update(c) : (bytes += c.length)));
      res.on('end', () => resolve(digest ? digest.digest('hex') : bytes));
    }).on('error', reject);
  });
}
