/**
 * Points in time written in a configuration (an API key's `expires-at`), in the forms JAiRouter
 * accepts: ISO 8601 (`2026-12-31T23:59:59`, as Spring binds a `LocalDateTime`), the
 * `yyyy-MM-dd HH:mm:ss` form of JAiRouter's own API, or a date alone (its first moment). Without
 * an offset the time is the host's local time, as JAiRouter reads it; with `Z` or `+08:00` it is
 * exact.
 *
 * @module
 */

const FORM =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Milliseconds since the epoch for `text`, or `undefined` when it is not a valid date-time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDateTime } from "./date_time.ts";
 * assert.equal(parseDateTime("2026-01-02T03:04:05Z"), Date.UTC(2026, 0, 2, 3, 4, 5));
 * assert.equal(parseDateTime("2026-01-02 03:04:05+01:00"), Date.UTC(2026, 0, 2, 2, 4, 5));
 * assert.equal(parseDateTime("2026-01-02"), new Date(2026, 0, 2).getTime());
 * assert.equal(parseDateTime("2026-02-30"), undefined);
 * ```
 */
export function parseDateTime(text: string): number | undefined {
  const m = FORM.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h = "0", mi = "0", s = "0"] = m.slice(1, 7);
  const ms = Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms] as const;
  const zone = m[8];
  let time: number;
  if (zone === undefined) {
    const local = new Date(...parts);
    if (local.getFullYear() !== parts[0] || local.getMonth() !== parts[1] || local.getDate() !== parts[2]) {
      return undefined;
    }
    time = local.getTime();
  } else {
    time = Date.UTC(...parts);
    const check = new Date(time);
    if (check.getUTCMonth() !== parts[1] || check.getUTCDate() !== parts[2]) return undefined;
    if (zone.toUpperCase() !== "Z") {
      const sign = zone[0] === "-" ? -1 : 1;
      const digits = zone.slice(1).replace(":", "");
      time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
  }
  if (parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return undefined;
  return time;
}
