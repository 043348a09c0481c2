"use client";

import type { ReactNode } from "react";

import { buttonClassName, ButtonLink, IntentLink, PageHeader } from "@/components/ui";
import { paths } from "@/lib/paths";
import { can, orgOf, useMe } from "@/lib/queries/me";

import { RescoreAllButton } from "./RescoreAllButton";
import { TaskForm } from "./TaskForm";
import { TaskList } from "./TaskList";

/**
 * The tasks page's header. It needs only the person (loaded with the shell), so the server sends
 * it in the first flush; `children` (the form and the list, which wait for their data) stream in
 * after it.
 */
export function TasksScreen({ org, children }: { org: string; children: ReactNode }) {
  const membership = orgOf(useMe().data, org);
  const canCreate = can(membership, "task.create");
  const canRescore = can(membership, "task.rescore");
  return (
    <>
      <PageHeader
        title="Tasks"
        description="Every task gets a score from the active scoring model; the best come first."
        actions={
          <>
            {canCreate ? (
              <>
                {/* On a phone the list comes first; this jumps to the form below it. */}
                <ButtonLink href="#new-task" className="lg:hidden">
                  New task
                </ButtonLink>
                {/* Prefetched on intent: most visits to the list do not import. */}
                <IntentLink href={paths.importTasks(org)} className={buttonClassName({ variant: "secondary" })}>
                  Import CSV
                </IntentLink>
              </>
            ) : null}
            {canRescore ? <RescoreAllButton org={org} /> : null}
          </>
        }
      />
      {children}
    </>
  );
}

/** The submit form (for those who may submit) beside the ranked list. */
export function TasksBody({ org }: { org: string }) {
  const canCreate = can(orgOf(useMe().data, org), "task.create");
  return (
    <div className={canCreate ? "grid gap-8 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]" : undefined}>
      {canCreate ? (
        <div id="new-task" className="order-2 scroll-mt-4 lg:sticky lg:top-6 lg:order-1 lg:self-start">
          <TaskForm org={org} />
        </div>
      ) : null}
      <div className="order-1 lg:order-2">
        <TaskList org={org} />
      </div>
    </div>
  );
}
