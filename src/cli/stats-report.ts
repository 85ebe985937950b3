import { formatBytes } from '../common/byte-size';
import type { TeamStats } from '../stats/stats.service';
import type { ToolSplit } from '../stats/tool-split';

/** `1h 02m 03s`, `4m 05s`, `12s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = Math.floor(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

export function formatRate(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** `label  value` lines, the values aligned. */
export function pairs(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}

/**
 * "By tool": each tool's lookups, uploads and storage, and where its numbers come from; `-`
 * where a tool's number is not known (nx reports no time saved, turbo's refusals are not counted).
 */
export function toolTable(tools: ToolSplit): string[] {
  const n = (value: number) => value.toLocaleString('en-US');
  const orDash = (value: number | null, format: (v: number) => string) =>
    value === null ? '-' : format(value);
  return [
    ...table(
      ['tool', 'hits', 'misses', 'hit rate', 'time saved', 'uploads', 'refused', 'stored'],
      (['turbo', 'nx'] as const).map((tool) => {
        const t = tools[tool];
        return [
          tool,
          n(t.hits),
          n(t.misses),
          formatRate(t.hitRate),
          orDash(t.timeSavedMs, formatDuration),
          n(t.uploads),
          orDash(t.refusedUploads, n),
          `${n(t.storage.artifacts)} (${formatBytes(t.storage.bytes)})`,
        ];
      }),
    ),
    '  turbo: from its usage events; nx: counted by the server, per UTC day',
  ];
}

/** What `teamcache stats <team>` prints: a summary and three tables, for people. */
export function formatStatsReport(stats: TeamStats): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const { remote, local } = stats;
  const lines = [
    `Team ${stats.team.slug} (${stats.team.id}), ${stats.period.from} to ${stats.period.to}`,
    '',
    ...pairs([
      [
        'stored now',
        `${n(stats.storage.artifacts)} artifacts, ${formatBytes(stats.storage.bytes)}`,
      ],
      ['uploads', `${n(stats.uploads.count)} (${formatBytes(stats.uploads.bytes)})`],
      ['remote hits / misses', `${n(remote.hits)} / ${n(remote.misses)}`],
      ['remote hit rate', formatRate(remote.hitRate)],
      ['time saved', formatDuration(remote.timeSavedMs)],
      ['local hits / misses', `${n(local.hits)} / ${n(local.misses)}`],
      ['local hit rate', formatRate(local.hitRate)],
      ['runs (sessions)', n(stats.sessions)],
    ]),
    '',
    'By tool',
    ...toolTable(stats.tools),
    '',
    'Top artifacts (turbo remote hits)',
    ...(stats.topArtifacts.length === 0
      ? ['  none in this period']
      : table(
          ['hash', 'hits', 'time saved', 'size'],
          stats.topArtifacts.map((a) => [
            a.hash,
            n(a.hits),
            formatDuration(a.timeSavedMs),
            a.size === null ? 'gone' : formatBytes(a.size),
          ]),
        )),
    '',
    'Clients',
    ...table(
      ['client', 'runs', 'remote hits', 'remote misses', 'local hits', 'uploads'],
      [
        ['interactive', stats.clients.interactive] as const,
        ['ci (all)', stats.clients.ci] as const,
        ...stats.clients.byCi.map((c) => [`ci: ${c.name}`, c] as const),
      ].map(([name, c]) => [
        name,
        n(c.sessions),
        n(c.remoteHits),
        n(c.remoteMisses),
        n(c.localHits),
        n(c.uploads),
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
