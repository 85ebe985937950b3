import { clientEventRows, dailyEventRows } from './usage-period';

const row = (day: string, clientCi: string, remoteHits: number, extra = {}) => ({
  day,
  clientCi,
  remoteHits,
  remoteMisses: 0,
  localHits: 0,
  localMisses: 0,
  timeSavedMs: remoteHits * 100,
  ...extra,
});

describe('dailyEventRows', () => {
  it('adds up the client CIs of a day and leaves out days that net to nothing', () => {
    expect(
      dailyEventRows([
        row('2025-03-01', '', 2),
        row('2025-03-01', 'github-actions', 3, { localMisses: 1 }),
        // A rollup less the part of its day outside the period: nothing left.
        row('2025-03-02', '', 4),
        row('2025-03-02', '', -4),
      ]),
    ).toEqual([
      {
        day: '2025-03-01',
        remoteHits: 5,
        remoteMisses: 0,
        localHits: 0,
        localMisses: 1,
        timeSavedMs: 500,
      },
    ]);
  });
});

describe('clientEventRows', () => {
  it('adds up the days of each client CI, with its sessions, interactive as null', () => {
    expect(
      clientEventRows(
        [row('2025-03-01', '', 2), row('2025-03-02', '', 1), row('2025-03-01', 'circleci', 1)],
        [
          { clientCi: '', sessions: 3 },
          { clientCi: 'circleci', sessions: 1 },
        ],
      ),
    ).toEqual([
      { clientCi: null, sessions: 3, remoteHits: 3, remoteMisses: 0, localHits: 0, localMisses: 0 },
      {
        clientCi: 'circleci',
        sessions: 1,
        remoteHits: 1,
        remoteMisses: 0,
        localHits: 0,
        localMisses: 0,
      },
    ]);
  });

  it('leaves out a client CI whose rows net to nothing', () => {
    expect(
      clientEventRows([row('2025-03-01', 'gitlab', 2), row('2025-03-01', 'gitlab', -2)], []),
    ).toEqual([]);
  });
});
