"use client";

import { cn, IntentLink } from "@/components/ui";
import { paths } from "@/lib/paths";

type TeamTab = "members" | "roles" | "security";

const TABS: Record<TeamTab, { label: string; href: (org: string) => string }> = {
  members: { label: "Members and invitations", href: paths.members },
  roles: { label: "Roles", href: paths.roles },
  security: { label: "Security", href: paths.security },
};
const TAB_NAMES = Object.keys(TABS) as TeamTab[];

/**
 * Moves between the members, the roles and the security settings of the org (pages under Members);
 * each tab prefetches its page on intent, like the shell's navigation.
 */
export function TeamTabs({ org, current }: { org: string; current: TeamTab }) {
  return (
    <nav aria-label="Team" className="mb-6 border-b border-slate-200">
      <ul className="-mb-px flex gap-4 overflow-x-auto">
        {TAB_NAMES.map((tab) => (
          <li key={tab}>
            <IntentLink
              href={TABS[tab].href(org)}
              aria-current={tab === current ? "page" : undefined}
              className={cn(
                "inline-block border-b-2 px-1 pb-2 text-sm font-medium whitespace-nowrap",
                "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600",
                tab === current ? "border-indigo-600 text-indigo-800" : "border-transparent text-slate-600 hover:border-slate-300 hover:text-slate-900",
              )}
            >
              {TABS[tab].label}
            </IntentLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
