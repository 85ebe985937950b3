import { type StatsPeriod, utcDays } from './stats-period';

const DAY_MS = 86_400_000;

/** [from, to): from inclusive, to exclusive. */
export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * How a UTC day that the period covers only in part is read:
 * - `raw`: its part inside the period from raw rows (whatever their rollup state);
 * - `subtract`: the day's rollup, less the raw rows of its part outside the period that the
 *   rollup holds;
 * - `whole`: neither is possible (the raw rows are pruned): the whole day's rollup counts.
 * `raw` and `subtract` give the same numbers; the one with the shorter raw part is chosen.
 */
export type EdgeMode = 'raw' | 'subtract' | 'whole';

export interface EdgeDay {
  day: string;
  /** The period's part of the day. */
  inside: TimeRange;
  /** The rest of the day: one range, or two when the period lies within the day. */
  outside: TimeRange[];
  mode: EdgeMode;
}

/**
 * Which rows answer a period exactly: rollups for whole days, raw rows for the rest. For usage
 * events, `pending` holds the events not rolled up yet (id > rolled_up_to); for artifacts
 * (whose day totals always include every row) it is unused.
 */
export interface ReadPlan {
  /** Days read from the rollups, first to last (`YYYY-MM-DD`, inclusive); null: none. */
  rollupDays: { first: string; last: string } | null;
  /** The time the rollup days stand for in the period: where not-rolled-up rows add to them. */
  pending: TimeRange | null;
  /** Read raw in full (the inside of `raw` edges). */
  raw: TimeRange[];
  /** Rolled-up rows to take off their day's rollup (the outside of `subtract` edges). */
  subtract: { day: string; range: TimeRange }[];
  edges: EdgeDay[];
}

/**
 * Which session rows count: the days' per-day session counts, with the first and last day's
 * session rows filtered by time when the period starts (`from`: last_at >= from) or ends
 * (`to`: first_at < to) within them; or, for a period inside one day whose raw events are
 * kept, the raw events of the period (`raw`).
 */
export interface SessionPlan {
  days: { first: string; last: string; from: Date | null; to: Date | null } | null;
  raw: TimeRange | null;
}

export interface PlanContext {
  /** Rows after now do not exist yet: a range's cost is its duration up to now. */
  now: Date;
  /** Raw rows created before this may be gone; null: every raw row is kept. */
  rawKeptFrom: Date | null;
}

const dayStart = (day: string) => new Date(`${day}T00:00:00Z`);
const nextDay = (day: string) => new Date(dayStart(day).getTime() + DAY_MS);

/** The duration of `range` up to `now`, in ms (0 when it lies after now). */
export function costUpTo(range: TimeRange, now: Date): number {
  return Math.max(0, Math.min(range.to.getTime(), now.getTime()) - range.from.getTime());
}

const kept = (from: Date, context: PlanContext) =>
  context.rawKeptFrom === null || from.getTime() >= context.rawKeptFrom.getTime();

/** The period's part of `day` and the rest of it; null when the period covers it whole. */
function splitDay(period: StatsPeriod, day: string): Omit<EdgeDay, 'mode'> | null {
  const start = dayStart(day);
  const end = nextDay(day);
  const inside = {
    from: new Date(Math.max(start.getTime(), period.from.getTime())),
    to: new Date(Math.min(end.getTime(), period.to.getTime())),
  };
  const outside: TimeRange[] = [];
  if (inside.from > start) outside.push({ from: start, to: inside.from });
  if (inside.to < end) outside.push({ from: inside.to, to: end });
  return outside.length === 0 ? null : { day, inside, outside };
}

function modeOf(edge: Omit<EdgeDay, 'mode'>, context: PlanContext): EdgeMode {
  const canRaw = kept(edge.inside.from, context);
  const canSubtract = edge.outside.every((range) => kept(range.from, context));
  if (!canRaw && !canSubtract) return 'whole';
  if (!canSubtract) return 'raw';
  if (!canRaw) return 'subtract';
  const rawCost = costUpTo(edge.inside, context.now);
  const subtractCost = edge.outside.reduce((sum, range) => sum + costUpTo(range, context.now), 0);
  return rawCost <= subtractCost ? 'raw' : 'subtract';
}

/**
 * The read plan of a period (utcDays of it): each day the period covers whole is read from the
 * rollups; the first and last day, when covered in part, by their EdgeMode.
 */
export function planRead(period: StatsPeriod, context: PlanContext): ReadPlan {
  const days = utcDays(period);
  const edges: EdgeDay[] = [];
  for (const day of new Set([days[0], days[days.length - 1]])) {
    const split = splitDay(period, day);
    if (split) edges.push({ ...split, mode: modeOf(split, context) });
  }
  const edgeOf = (day: string) => edges.find((edge) => edge.day === day);
  const inRollups = days.filter((day) => edgeOf(day)?.mode !== 'raw');
  const plan: ReadPlan = { rollupDays: null, pending: null, raw: [], subtract: [], edges };
  for (const edge of edges) {
    if (edge.mode === 'raw') plan.raw.push(edge.inside);
    if (edge.mode === 'subtract') {
      for (const range of edge.outside) plan.subtract.push({ day: edge.day, range });
    }
  }
  if (inRollups.length === 0) return plan;
  const first = inRollups[0];
  const last = inRollups[inRollups.length - 1];
  const firstEdge = edgeOf(first);
  const lastEdge = edgeOf(last);
  plan.rollupDays = { first, last };
  plan.pending = {
    from: firstEdge?.mode === 'subtract' ? firstEdge.inside.from : dayStart(first),
    to: lastEdge?.mode === 'subtract' ? lastEdge.inside.to : nextDay(last),
  };
  return plan;
}

/**
 * The session plan of a period: session rows of every day it touches, filtered by time on a
 * day it covers in part; a period within one day whose raw events are kept is read raw, since
 * a session's first and last event of the day do not tell whether it had one in between.
 */
export function planSessions(period: StatsPeriod, context: PlanContext): SessionPlan {
  const days = utcDays(period);
  const first = days[0];
  const last = days[days.length - 1];
  const from = period.from > dayStart(first) ? period.from : null;
  const to = period.to < nextDay(last) ? period.to : null;
  if (first === last && from && to && kept(from, context)) {
    return { days: null, raw: { from: period.from, to: period.to } };
  }
  return { days: { first, last, from, to }, raw: null };
}
