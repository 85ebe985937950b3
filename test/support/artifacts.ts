import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { Server } from 'node:http';
import request from 'supertest';
import { listeningPort } from './ports';

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A random artifact hash (turbo's are 16 hex characters). */
export const randomHash = () => randomBytes(8).toString('hex');

/** PUT an artifact with turbo's headers (and any extra ones). */
export function putArtifact(
  server: Server,
  token: string,
  hash: string,
  body: Buffer,
  headers: Record<string, string> = {},
  query = '',
) {
  return request(server)
    .put(`/v8/artifacts/${hash}${query}`)
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', 'application/octet-stream')
    .set('x-artifact-duration', '1234')
    .set(headers)
    .send(body);
}

export function getArtifact(server: Server, token: string, hash: string, query = '') {
  return request(server)
    .get(`/v8/artifacts/${hash}${query}`)
    .set('Authorization', `Bearer ${token}`)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
}

/** A PUT with Transfer-Encoding: chunked and no Content-Length (turbo never sends one). */
export async function chunkedPut(server: Server, token: string, hash: string, body: Buffer) {
  const port = await listeningPort(server);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/v8/artifacts/${hash}`,
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.write(body);
    req.end();
  });
}

/**
 * Starts a PUT announcing `declared` bytes, sends `sent` of them, then drops the connection,
 * as a client killed mid-upload would.
 */
export async function abortedPut(
  server: Server,
  token: string,
  hash: string,
  declared: number,
  sent: number,
): Promise<void> {
  const port = await listeningPort(server);
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/v8/artifacts/${hash}`,
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(declared) },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(randomBytes(sent), () => setTimeout(() => req.destroy(), 100));
  });
}
