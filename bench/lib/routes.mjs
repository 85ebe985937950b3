// The two cache protocols a benchmark loads: the turbo artifact routes (every server) and the
// Nx self-hosted cache routes (teamcache only), as a path per hash, a miss nobody uploads, a
// fresh hash and a small upload.
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';

const QUERY = '?slug=bench';

export const TURBO = {
  name: 'turbo',
  path: (hash) => `/v8/artifacts/${hash}${QUERY}`,
  // A hex hash that is never uploaded (a non-hex one would be a 400 for teamcache).
  miss: 'ffffffffffffffff',
  newHash: () => randomBytes(8).toString('hex'),
};

export const NX = {
  name: 'nx',
  path: (hash) => `/v1/cache/${hash}`,
  // Nx hashes are decimal u64s; the largest is never uploaded here.
  miss: '18446744073709551615',
  newHash: () => randomBytes(8).readBigUInt64BE().toString(),
};

/** PUT `body` in one piece on `route`; resolves once the server answered 2xx. */
export function putSmall(server, route, hash, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(route.path(hash), server.url), {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${server.token}`,
        'Content-Length': String(body.length),
        'Content-Type': 'application/octet-stream',
      },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`${route.name} PUT ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
