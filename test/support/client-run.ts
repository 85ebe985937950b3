import { spawn } from 'node:child_process';

/** How a build client (turbo, nx) ended: its exit status and stdout and stderr interleaved. */
export interface ClientRun {
  status: number | null;
  output: string;
}

/** A client run that has not finished by then is killed (a hung client must not hang jest). */
const CLIENT_TIMEOUT_MS = 120_000;

/**
 * Runs a real build client to completion with exactly `env` (plus PATH and HOME), never
 * spawnSync: the app under test runs in this jest process and must keep answering meanwhile.
 */
export function runClient(
  bin: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}
