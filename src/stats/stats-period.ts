const DAY_MS = 86_400_000;

/** The default period: the last 30 days. */
export const DEFAULT_PERIOD_DAYS = 30;
/** The longest period one request may cover (its daily series has one entry per day). */
export const MAX_PERIOD_DAYS = 366;

/** [from, to): from inclusive, to exclusive. */
export interface StatsPeriod {
  from: Date;
  to: Date;
}

export class InvalidPeriodError extends Error {}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads an ISO date (`2025-01-31`, UTC midnight) or date-time with an offset
 * (`2025-01-31T12:00:00Z`). `endOfDay` turns a plain date into the end of that day, so
 * `--to 2025-01-31` includes the 31st. Impossible dates (2025-02-30) are refused.
 */
function parseInstant(name: string, text: string, endOfDay: boolean): Date {
  const dateOnly = DATE_ONLY.test(text);
  const parts = DATE_ONLY.exec(text) ?? DATE_TIME.exec(text);
  const date = new Date(dateOnly ? `${text}T00:00:00Z` : text);
  // Date rolls 2025-02-30 over to March 2: the calendar date must survive a round trip.
  const calendarDate = parts ? `${parts[1]}-${parts[2]}-${parts[3]}` : '';
  const valid =
    parts !== null &&
    !Number.isNaN(date.getTime()) &&
    new Date(`${calendarDate}T00:00:00Z`).toISOString().slice(0, 10) === calendarDate;
  if (!valid) {
    throw new InvalidPeriodError(
      `${name} must be an ISO date such as 2025-01-31 or 2025-01-31T12:00:00Z (got ${JSON.stringify(text)})`,
    );
  }
  return dateOnly && endOfDay ? new Date(date.getTime() + DAY_MS) : date;
}

/**
 * The period of a stats request: `to` defaults to now, `from` to 30 days before `to`. Empty
 * strings count as absent. Refuses a period that is empty, reversed or longer than 366 days.
 */
export function parsePeriod(
  from: string | undefined,
  to: string | undefined,
  now: Date = new Date(),
): StatsPeriod {
  const end = to ? parseInstant('to', to, true) : now;
  const start = from
    ? parseInstant('from', from, false)
    : new Date(end.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS);
  if (start.getTime() >= end.getTime()) {
    throw new InvalidPeriodError(
      `from (${start.toISOString()}) must be before to (${end.toISOString()})`,
    );
  }
  if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY_MS) {
    throw new InvalidPeriodError(`the period may cover at most ${MAX_PERIOD_DAYS} days`);
  }
  return { from: start, to: end };
}

/** The UTC days (`YYYY-MM-DD`) that the period touches, oldest first. */
export function utcDays({ from, to }: StatsPeriod): string[] {
  const days: string[] = [];
  const first = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let day = first; day < to.getTime(); day += DAY_MS) {
    days.push(new Date(day).toISOString().slice(0, 10));
  }
  return days;
}
