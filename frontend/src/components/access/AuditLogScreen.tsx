"use client";

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";

import { Badge, Button, Card, DateTime, EmptyState, FieldError, Input, LoadingState, PageHeader, Select, Skeleton, type BadgeTone } from "@/components/ui";
import { roleNameOf } from "@/lib/access";
import type { AuditActorKind, AuditEvent } from "@/lib/api/types";
import {
  ACTOR_KIND_WORDS,
  ACTOR_MAX,
  actionLabel,
  AUDIT_ACTION_GROUPS,
  auditFiltersFromParams,
  auditWhat,
  auditWho,
  dateRangeError,
  isFiltered,
  paramsFromAuditFilters,
  type RoleNamer,
} from "@/lib/audit";
import { paths } from "@/lib/paths";
import { useAuditLog, useRoles } from "@/lib/queries/access";
import type { AuditFilters } from "@/lib/queries/keys";
import { useOrgAccess } from "@/lib/queries/me";
import { itemsOf } from "@/lib/queries/options";

import { AccessError, NotAllowed } from "./AccessError";

const ACTOR_DEBOUNCE_MS = 300;

const KIND_BADGE: Record<AuditActorKind, { label: string; tone: BadgeTone }> = {
  user: { label: "Session", tone: "info" },
  api_key: { label: "API key", tone: "accent" },
  system: { label: "System", tone: "neutral" },
};

function Filters({ filters, onChange }: { filters: AuditFilters; onChange: (next: AuditFilters) => void }) {
  const id = useId();
  const currentActor = filters.actor ?? "";
  const [actor, setActor] = useState(currentActor);
  // The URL's actor as last seen, and the one this box last put there.
  const [known, setKnown] = useState({ url: currentActor, sent: currentActor });
  if (currentActor !== known.url) {
    // Adjusting state while rendering (React's documented pattern): the URL changed. When it was
    // not this box's own debounced search (a clear, back), the box shows what the URL says.
    if (currentActor !== known.sent) setActor(currentActor);
    setKnown({ url: currentActor, sent: known.sent });
  }
  // The latest filters and callback, read when the debounced actor fires (not a reason to re-arm it).
  const latest = useRef({ filters, onChange });
  useEffect(() => {
    latest.current = { filters, onChange };
  });
  useEffect(() => {
    if (actor.trim() === currentActor) return;
    const timer = window.setTimeout(() => {
      const trimmed = actor.trim();
      setKnown((current) => ({ ...current, sent: trimmed }));
      const { actor: _previous, ...rest } = latest.current.filters;
      latest.current.onChange(trimmed ? { ...rest, actor: trimmed } : rest);
    }, ACTOR_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [actor, currentActor]);
  const action = filters.action;
  const isKnownAction = action === undefined || AUDIT_ACTION_GROUPS.some((group) => action in group.actions);

  function set(name: "action" | "from" | "to", value: string) {
    const { [name]: _previous, ...rest } = filters;
    onChange(value ? { ...rest, [name]: value } : rest);
  }

  const rangeError = dateRangeError(filters);
  return (
    <div role="search" aria-label="Filter the audit log" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
      <div>
        <label htmlFor={`${id}-action`} className="mb-1 block text-sm font-medium text-slate-800">
          Action
        </label>
        <Select id={`${id}-action`} value={filters.action ?? ""} onChange={(event) => set("action", event.target.value)}>
          <option value="">Any action</option>
          {!isKnownAction && action ? <option value={action}>{actionLabel(action)}</option> : null}
          {AUDIT_ACTION_GROUPS.map((group) => (
            <optgroup key={group.label} label={group.label}>
              {Object.entries(group.actions).map(([action, label]) => (
                <option key={action} value={action}>
                  {label}
                </option>
              ))}
            </optgroup>
          ))}
        </Select>
      </div>
      <div>
        <label htmlFor={`${id}-actor`} className="mb-1 block text-sm font-medium text-slate-800">
          Who
        </label>
        <Input
          id={`${id}-actor`}
          type="search"
          placeholder="An email or ts_ key prefix"
          maxLength={ACTOR_MAX}
          value={actor}
          onChange={(event) => setActor(event.target.value)}
        />
      </div>
      <div>
        <label htmlFor={`${id}-from`} className="mb-1 block text-sm font-medium text-slate-800">
          From
        </label>
        <Input
          id={`${id}-from`}
          type="date"
          value={filters.from ?? ""}
          max={filters.to}
          aria-invalid={rangeError ? true : undefined}
          aria-describedby={rangeError ? `${id}-range` : undefined}
          onChange={(event) => set("from", event.target.value)}
        />
      </div>
      <div>
        <label htmlFor={`${id}-to`} className="mb-1 block text-sm font-medium text-slate-800">
          To (included)
        </label>
        <Input
          id={`${id}-to`}
          type="date"
          value={filters.to ?? ""}
          min={filters.from}
          aria-invalid={rangeError ? true : undefined}
          aria-describedby={rangeError ? `${id}-range` : undefined}
          onChange={(event) => set("to", event.target.value)}
        />
      </div>
      {rangeError ? (
        <div className="sm:col-span-2 lg:col-span-4">
          <FieldError id={`${id}-range`} message={rangeError} />
        </div>
      ) : null}
    </div>
  );
}

function Snapshot({ label, value }: { label: string; value: Record<string, unknown> | null }) {
  if (value === null) return null;
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium text-slate-600">{label}</dt>
      <dd>
        <pre className="overflow-x-auto rounded bg-slate-50 p-2 text-xs text-slate-800">{JSON.stringify(value, null, 2)}</pre>
      </dd>
    </div>
  );
}

function EventItem({ org, event, roleName }: { org: string; event: AuditEvent; roleName: RoleNamer }) {
  const kind = KIND_BADGE[event.actor_kind];
  const hasDetails = event.before !== null || event.after !== null;
  return (
    <li data-testid="audit-event" data-action={event.action} className="py-3">
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-1">
        <p className="min-w-0 text-sm text-slate-900" data-testid="audit-sentence">
          <span className="font-medium break-all">{auditWho(event)}</span> {auditWhat(event, roleName)}.
          {event.target_type === "task" ? (
            <>
              {" "}
              <Link href={paths.task(org, event.target_id)} className="font-medium text-indigo-700 underline">
                Open the task
              </Link>
            </>
          ) : null}
        </p>
        <Badge tone={kind.tone}>{kind.label}</Badge>
      </div>
      <p className="mt-0.5 text-xs text-slate-600">
        <DateTime iso={event.created_at} /> · {ACTOR_KIND_WORDS[event.actor_kind]} · {actionLabel(event.action)}
      </p>
      {hasDetails ? (
        <details className="mt-1 text-sm">
          <summary className="cursor-pointer text-xs font-medium text-slate-600 hover:text-slate-900">What changed, as recorded</summary>
          <dl className="mt-2 grid gap-2 sm:grid-cols-2">
            <Snapshot label="Before" value={event.before} />
            <Snapshot label="After" value={event.after} />
          </dl>
        </details>
      ) : null}
    </li>
  );
}

function EventList({ org, filters, onClear }: { org: string; filters: AuditFilters; onClear: () => void }) {
  const access = useOrgAccess(org);
  const rangeError = dateRangeError(filters);
  const log = useAuditLog(org, filters, rangeError === null);
  const roles = useRoles(org, access.can("members.read"));
  const roleName: RoleNamer = (key) => roleNameOf(roles.data, key);
  const events = itemsOf(log.data);

  if (rangeError) return <p className="text-sm text-slate-600">Choose a first day before the last one to see events.</p>;
  if (log.isPending) {
    return (
      <div className="space-y-2" aria-hidden="true">
        {[0, 1, 2, 3].map((row) => (
          <Skeleton key={row} className="h-12" />
        ))}
      </div>
    );
  }
  if (log.isError && events.length === 0) {
    return <AccessError org={org} error={log.error} title="The audit log could not be loaded" onRetry={() => void log.refetch()} />;
  }
  if (events.length === 0) {
    return isFiltered(filters) ? (
      <EmptyState title="No event matches" action={<Button variant="secondary" size="sm" onClick={onClear}>Clear the filters</Button>}>
        Nothing recorded fits this action, person or days.
      </EmptyState>
    ) : (
      <EmptyState title="Nothing recorded yet">
        Invitations, role changes, API keys, overrides and AI rule changes will appear here, each with who made them and when.
      </EmptyState>
    );
  }
  return (
    <>
      {log.isError ? <AccessError org={org} error={log.error} title="More events could not be loaded" className="mb-2" /> : null}
      <ol className="divide-y divide-slate-100" data-testid="audit-list">
        {events.map((event) => (
          <EventItem key={event.id} org={org} event={event} roleName={roleName} />
        ))}
      </ol>
      {log.hasNextPage ? (
        <Button variant="secondary" className="mt-3 w-full" onClick={() => void log.fetchNextPage()} isLoading={log.isFetchingNextPage}>
          Show older events
        </Button>
      ) : (
        <p className="mt-3 text-center text-xs text-slate-500">{isFiltered(filters) ? "That is every matching event." : "That is the whole log."}</p>
      )}
    </>
  );
}

/** Who changed what, and when: the org's audit log, filtered by action, person and days (in the URL). */
export function AuditLogScreen({ org }: { org: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const filters = auditFiltersFromParams(new URLSearchParams(searchParams.toString()));
  const access = useOrgAccess(org);

  function update(next: AuditFilters) {
    const query = paramsFromAuditFilters(next).toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  }
  function clear() {
    update({});
  }

  let body;
  if (access.isPending) {
    body = <LoadingState label="Loading the audit log…" />;
  } else if (!access.can("audit.read")) {
    body = <NotAllowed permission="audit.read" />;
  } else {
    body = (
      <Card className="space-y-4">
        <Filters filters={filters} onChange={update} />
        {isFiltered(filters) ? (
          <p>
            <Button variant="ghost" size="sm" onClick={clear}>
              Clear the filters
            </Button>
          </p>
        ) : null}
        <EventList org={org} filters={filters} onClear={clear} />
      </Card>
    );
  }

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change to who may do what, and to how tasks are scored: who made it, how, and when. Newest first."
      />
      {body}
    </>
  );
}
