// Streaming one artifact up or down with http: never the whole body in memory, always hashed.
import { createHash } from 'node:crypto';
import * as http from 'node:http';

/** PUT `size` bytes made of repeated `chunk`; resolves to the sha256 of what was sent. */
export function upload(baseUrl, token, hash, size, chunk, query = '') {
  const url = new URL(`/v8/artifacts/${hash}${query}`, baseUrl);
  return new Promise((resolve, reject) => {
    const digest = createHash('sha256');
    const req = http.request(url, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(size), 'Content-Type': 'application/octet-stream', 'x-artifact-duration': '1000' },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve(digest.digest('hex')) : reject(new Error(`PUT ${res.statusCode}`))));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        digest.update(piece);
        if (!req.write(piece)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** GET an artifact; resolves to the sha256 of the body. */
export function download(baseUrl, token, hash, query = '') {
  const url = new URL(`/v8/artifacts/${hash}${query}`, baseUrl);
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${res.statusCode}`));
      const digest = createHash('sha256');
      res.on('data', (c) => digest.update(c));
      res.on('end', () => resolve(digest.digest('hex')));
    }).on('error', reject);
  });
}
