/** How numbers, scores, money and dates are shown to people (English, the reader's time zone). */

/** A score as shown to people: one decimal (`72.5`). */
export function formatScore(value: number): string {
  return value.toFixed(1);
}

export function formatNumber(value: number | null, maximumFractionDigits = 2): string {
  if (value === null) return "—";
  return new Intl.NumberFormat("en", { maximumFractionDigits }).format(value);
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** A date and time (`Jan 2, 2026, 3:04 AM`), in the reader's time zone unless one is given. */
export function formatDateTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const key = timeZone ?? "";
  let format = dateTimeFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en", {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "numeric",
      minute: "2-digit",
      // UTC is said when shown (before the browser's own zone is known); a known zone is not.
      ...(timeZone ? { timeZone } : {}),
      ...(timeZone === "UTC" ? { timeZoneName: "short" as const } : {}),
    });
    dateTimeFormats.set(key, format);
  }
  return format.format(date);
}

const usdFormat = new Intl.NumberFormat("en", { style: "currency", currency: "USD", maximumFractionDigits: 6 });

/** A cost in US dollars, with the precision small AI costs need (`$0.000042`). */
export function formatUsd(value: number): string {
  return usdFormat.format(value);
}

/** A signed change (`+3.2`, `−1.0`, `0.0`). */
export function formatDelta(value: number, digits = 1): string {
  const rounded = value.toFixed(digits);
  if (Number(rounded) === 0) return (0).toFixed(digits);
  return value > 0 ? `+${rounded}` : `−${rounded.slice(1)}`;
}

/** A share as a percentage (`42%`), from a fraction. */
export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
