import { toolSplit, totalStorage } from './tool-split';

describe('toolSplit', () => {
  const turboRemote = { hits: 3, misses: 1, hitRate: 0.75, timeSavedMs: 4_200 };

  it('takes turbo from its events and artifacts, nx from the server counts and artifacts', () => {
    expect(
      toolSplit({
        turboRemote,
        stored: [
          { tool: 'turbo', artifacts: 4, bytes: 4_000 },
          { tool: 'nx', artifacts: 2, bytes: 300 },
        ],
        uploaded: [
          { tool: 'nx', uploads: 1 },
          { tool: 'turbo', uploads: 3 },
        ],
        nxCounts: { hits: 2, misses: 1, uploads: 5, refusedUploads: 2 },
      }),
    ).toEqual({
      turbo: {
        countedBy: 'client-events',
        hits: 3,
        misses: 1,
        hitRate: 0.75,
        timeSavedMs: 4_200,
        uploads: 3,
        refusedUploads: null,
        storage: { artifacts: 4, bytes: 4_000 },
      },
      nx: {
        countedBy: 'server',
        hits: 2,
        misses: 1,
        hitRate: 0.6667,
        timeSavedMs: null,
        // The server's count of stored PUTs, not the artifact rows (one of them survives).
        uploads: 5,
        refusedUploads: 2,
        storage: { artifacts: 2, bytes: 300 },
      },
    });
  });

  it('gives every tool, with zeros, when a tool was not used', () => {
    const split = toolSplit({
      turboRemote: { hits: 0, misses: 0, hitRate: null, timeSavedMs: 0 },
      stored: [],
      uploaded: [],
      nxCounts: undefined,
    });
    expect(split.nx).toEqual({
      countedBy: 'server',
      hits: 0,
      misses: 0,
      hitRate: null,
      timeSavedMs: null,
      uploads: 0,
      refusedUploads: 0,
      storage: { artifacts: 0, bytes: 0 },
    });
    expect(split.turbo).toMatchObject({ hits: 0, uploads: 0, storage: { artifacts: 0, bytes: 0 } });
  });
});

describe('totalStorage', () => {
  it('sums the tools', () => {
    expect(
      totalStorage([
        { tool: 'turbo', artifacts: 4, bytes: 4_000 },
        { tool: 'nx', artifacts: 2, bytes: 300 },
      ]),
    ).toEqual({ artifacts: 6, bytes: 4_300 });
    expect(totalStorage([])).toEqual({ artifacts: 0, bytes: 0 });
  });
});
