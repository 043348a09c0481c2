"use client";

import { useSyncExternalStore } from "react";

import { formatDateTime } from "@/lib/format";

const noSubscription = () => () => {};

/** False while the server renders and the page hydrates, true after: for browser-only values. */
export function useIsClient(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
}

/**
 * A date and time in the reader's time zone. The server does not know that zone, so the server
 * (and hydration) render UTC, and the browser switches to local time right after.
 */
export function DateTime({ iso, className }: { iso: string; className?: string }) {
  const isClient = useIsClient();
  return (
    <time dateTime={iso} className={className}>
      {formatDateTime(iso, isClient ? undefined : "UTC")}
    </time>
  );
}
