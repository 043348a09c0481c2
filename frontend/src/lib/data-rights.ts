import type { OrgExport, OrgExportStatus } from "./api/types";
import { formatNumber } from "./format";

/** Every export status in words (a status the API adds fails to compile here). */
export const EXPORT_STATUS_WORDS: Record<OrgExportStatus, string> = {
  queued: "Waiting to start",
  running: "Exporting",
  done: "Ready",
  failed: "Failed",
  expired: "Expired",
};

/** Whether an export is still being made (the list is polled while one is). */
export function isExportPending(exportItem: Pick<OrgExport, "status">): boolean {
  return exportItem.status === "queued" || exportItem.status === "running";
}

/** A file size in words: 512 bytes, 3.4 KB, 12 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB"] as const;
  let value = bytes / 1000;
  let unit: (typeof units)[number] = units[0];
  for (const next of units.slice(1)) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${formatNumber(value, value < 10 ? 1 : 0)} ${unit}`;
}

/** An export's progress in words: "1,234 of 5,000 rows", or "Counting the rows…" before it knows. */
export function exportProgressText(exportItem: Pick<OrgExport, "done" | "total">): string {
  if (exportItem.total === 0) return "Counting the rows…";
  return `${formatNumber(exportItem.done, 0)} of ${formatNumber(exportItem.total, 0)} rows`;
}

/** Whether what the person typed confirms deleting the org: exactly its slug (spaces around ignored). */
export function isDeletionConfirmed(typed: string, slug: string): boolean {
  return typed.trim() === slug;
}
