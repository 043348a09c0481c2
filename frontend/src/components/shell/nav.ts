import { paths } from "@/lib/paths";

export interface NavItem {
  label: string;
  href: (org: string) => string;
  /** The permission a role needs to see this page; the API still decides. */
  permission: string | null;
}

export const ORG_NAV: readonly NavItem[] = [
  { label: "Tasks", href: paths.tasks, permission: "task.read" },
  { label: "Scoring", href: paths.scoring, permission: "task.read" },
  { label: "AI", href: paths.ai, permission: "task.read" },
  { label: "Members", href: paths.members, permission: "members.read" },
  { label: "API keys", href: paths.apiKeys, permission: "apikeys.read" },
  { label: "Audit log", href: paths.audit, permission: "audit.read" },
  { label: "Billing", href: paths.billing, permission: "billing.read" },
  // Every member sees the org's settings; exporting and deleting it are an owner's.
  { label: "Settings", href: paths.settings, permission: null },
];

/** Whether `pathname` is the page of `href` or below it. */
export function isCurrent(pathname: string, href: string): boolean {
  return pathname === href || pathname.startsWith(`${href}/`);
}
