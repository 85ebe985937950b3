/** The one way tests wait: a fixed pause, or a check retried until it passes. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it passes or `timeoutMs` elapses; resolves to the elapsed time. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
      await sleep(100);
    }
  }
}
