"use client";

import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from "react";

import { formatDateTime } from "@/lib/format";
import { TIME_ZONE_COOKIE } from "@/lib/time-zone";

const noSubscription = () => () => {};

/** False while the server renders and the page hydrates, true after: for browser-only values. */
export function useIsClient(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
}

/** The reader's time zone as the server learnt it (a cookie the browser set), if it did. */
const TimeZoneContext = createContext<string | null>(null);

export function TimeZoneProvider({ timeZone, children }: { timeZone: string | null; children: ReactNode }) {
  return <TimeZoneContext.Provider value={timeZone}>{children}</TimeZoneContext.Provider>;
}

/** Tells the server the browser's time zone (a cookie), on every page, for the next render. */
export function useRememberTimeZone(): void {
  useEffect(() => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const current = document.cookie.split("; ").find((part) => part.startsWith(`${TIME_ZONE_COOKIE}=`));
    if (zone && current !== `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}`) {
      document.cookie = `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}; path=/; max-age=31536000; samesite=lax`;
    }
  }, []);
}

/**
 * A date and time in the reader's time zone. When the server knows that zone (from a cookie set
 * on an earlier visit), server and browser render the same text. Otherwise the server (and
 * hydration) render UTC, the browser switches to local time right after, and remembers the zone.
 */
export function DateTime({ iso, className }: { iso: string; className?: string }) {
  const knownZone = useContext(TimeZoneContext);
  const isClient = useIsClient();
  const zone = knownZone ?? (isClient ? undefined : "UTC");
  return (
    <time dateTime={iso} className={className}>
      {formatDateTime(iso, zone)}
    </time>
  );
}
