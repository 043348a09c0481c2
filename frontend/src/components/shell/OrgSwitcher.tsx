"use client";

import { useRouter } from "next/navigation";
import { useId } from "react";

import { Select } from "@/components/ui";
import type { Org } from "@/lib/api/types";
import { paths } from "@/lib/paths";

/** Moves between the person's orgs (shown only when there is more than one). */
export function OrgSwitcher({ orgs, current }: { orgs: readonly Org[]; current: string | undefined }) {
  const router = useRouter();
  const id = useId();
  const currentOrg = orgs.find((org) => org.slug === current);
  if (orgs.length < 2) {
    return currentOrg ? (
      <span className="truncate text-sm font-medium text-slate-800" data-testid="org-name">
        {currentOrg.name}
      </span>
    ) : null;
  }
  return (
    <div className="flex min-w-0 items-center gap-2">
      <label htmlFor={id} className="sr-only">
        Organization
      </label>
      <Select
        id={id}
        data-testid="org-switcher"
        value={current ?? ""}
        onChange={(event) => router.push(paths.tasks(event.target.value))}
        className="max-w-[14rem] py-1.5"
      >
        {current === undefined ? <option value="">Choose an organization</option> : null}
        {orgs.map((org) => (
          <option key={org.slug} value={org.slug}>
            {org.name}
          </option>
        ))}
      </Select>
    </div>
  );
}
