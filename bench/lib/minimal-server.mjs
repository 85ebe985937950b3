// The machine's own limit for an HTTP artifact transfer: node:http streaming a PUT body into a
// file (fsynced, then renamed) and a GET from one, with no auth, database or checks. Started
// by bench/compare.mjs as a reference row, in its own process like the servers it compares.
//   node bench/lib/minimal-server.mjs <port> <dir>
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';

const [port, dir] = [Number(process.argv[2]), process.argv[3]];
let uploads = 0;
http
  .createServer(async (req, res) => {
    const name = path.join(dir, path.basename(new URL(req.url, 'http://x').pathname));
    try {
      if (req.method === 'PUT') {
        const temp = `${name}.${++uploads}.part`;
        await pipeline(req, fs.createWriteStream(temp, { flush: true, highWaterMark: 4 * 1024 * 1024 }));
        await fs.promises.rename(temp, name);
        res.writeHead(202).end();
      } else {
        const { size } = await fs.promises.stat(name);
        res.writeHead(200, { 'content-length': size });
        await pipeline(fs.createReadStream(name, { highWaterMark: 1024 * 1024 }), res);
      }
    } catch {
      if (res.headersSent) res.destroy();
      else res.writeHead(404).end();
    }
  })
  .listen(port, '127.0.0.1');
