/** The cookie in which the browser tells the server its time zone, so dates render once. */
export const TIME_ZONE_COOKIE = "ts_tz";

/** The zone if it is one that Intl knows (a cookie is input like any other), else null. */
export function validTimeZone(value: string | undefined): string | null {
  if (!value || value.length > 64) return null;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return value;
  } catch {
    return null;
  }
}
