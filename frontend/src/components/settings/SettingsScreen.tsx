"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { AccessError } from "@/components/access/AccessError";
import {
  Alert,
  Badge,
  type BadgeTone,
  Button,
  buttonClassName,
  Card,
  DateTime,
  Dialog,
  EmptyState,
  Field,
  Input,
  LoadingState,
  Meter,
  PageHeader,
  Skeleton,
  useToast,
} from "@/components/ui";
import { ApiProblem } from "@/lib/api/problem";
import type { Org, OrgExport, OrgExportStatus } from "@/lib/api/types";
import {
  EXPORT_STATUS_WORDS,
  exportProgressText,
  formatBytes,
  isDeletionConfirmed,
  isExportPending,
} from "@/lib/data-rights";
import { describeError } from "@/lib/errors";
import { paths } from "@/lib/paths";
import { useDeleteOrg, useExports, useStartExport } from "@/lib/queries/data-rights";
import { useOrgAccess } from "@/lib/queries/me";

const STATUS_TONE: Record<OrgExportStatus, BadgeTone> = {
  queued: "neutral",
  running: "info",
  done: "success",
  failed: "danger",
  expired: "neutral",
};

// ---------------------------------------------------------------------------------- the org

function OrganizationCard({ membership }: { membership: Org | undefined }) {
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Organization</h2>
      {membership ? (
        <dl className="mt-3 grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
          <dt className="font-medium text-slate-600">Name</dt>
          <dd className="break-words text-slate-900">{membership.name}</dd>
          <dt className="font-medium text-slate-600">Slug</dt>
          <dd>
            <code className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-900">{membership.slug}</code>
          </dd>
          <dt className="font-medium text-slate-600">Your role</dt>
          <dd className="text-slate-900">{membership.role}</dd>
        </dl>
      ) : (
        <Skeleton className="mt-3 h-16" />
      )}
    </Card>
  );
}

function OwnersOnly({ name }: { name: string }) {
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Export and deletion</h2>
      <Alert tone="info" className="mt-3" title="Only an owner can do this">
        Exporting all of {name}&apos;s data and deleting the organization are an owner&apos;s to do. Ask an owner of {name} if
        you need either.
      </Alert>
    </Card>
  );
}

// ---------------------------------------------------------------------------------- exports

function ExportItem({ item }: { item: OrgExport }) {
  const pending = isExportPending(item);
  return (
    <li className="py-3 first:pt-0 last:pb-0" data-testid="export-item" data-status={item.status}>
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
        <div className="min-w-0 text-sm">
          <p className="flex flex-wrap items-center gap-2">
            <Badge tone={STATUS_TONE[item.status]}>{EXPORT_STATUS_WORDS[item.status]}</Badge>
            <span className="text-slate-700">
              Asked for <DateTime iso={item.created_at} />
              {item.created_by ? ` by ${item.created_by}` : ""}
            </span>
          </p>
          {item.status === "done" && item.expires_at ? (
            <p className="mt-1 text-slate-600">
              {item.size_bytes !== null ? `${formatBytes(item.size_bytes)} · ` : ""}can be downloaded until{" "}
              <DateTime iso={item.expires_at} />
            </p>
          ) : null}
          {item.status === "expired" && item.expires_at ? (
            <p className="mt-1 text-slate-600">
              Its file was deleted on <DateTime iso={item.expires_at} />; start a new export to get the data.
            </p>
          ) : null}
          {item.status === "failed" ? (
            <p className="mt-1 text-rose-800">{item.failure_reason ?? "It stopped before it was done."} Start another one.</p>
          ) : null}
        </div>
        {item.download_url ? (
          <a href={item.download_url} download className={buttonClassName({ variant: "secondary", size: "sm" })} data-testid="export-download">
            Download
          </a>
        ) : null}
      </div>
      {pending ? (
        <div className="mt-2">
          <Meter
            value={item.done}
            max={Math.max(item.total, 1)}
            label="Export progress"
            valueText={exportProgressText(item)}
            className="h-2"
          />
          <p className="mt-1 text-xs text-slate-600" aria-live="polite">
            {exportProgressText(item)}
          </p>
        </div>
      ) : null}
    </li>
  );
}

function ExportCard({ org }: { org: string }) {
  const exports = useExports(org);
  const start = useStartExport(org);
  const toast = useToast();
  const items = exports.data?.items ?? [];
  const isBusy = items.some(isExportPending);
  return (
    <Card>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 max-w-prose">
          <h2 className="text-lg font-semibold text-slate-900">Export data</h2>
          <p className="mt-1 text-sm text-slate-600">
            Everything the organization holds in one JSON file (gzipped): members and roles, invitations, API keys (never
            their secrets), tasks with every score and review, scoring models, calibration ratings, AI rules, billing and
            invoices, and the audit log. It is made in the background; its file can be downloaded for 24 hours.
          </p>
        </div>
        <Button
          onClick={() =>
            start.mutate(undefined, { onSuccess: () => toast.show("The export has started; its download appears below when it is ready.") })
          }
          isLoading={start.isPending}
          disabled={isBusy}
          data-testid="export-start"
        >
          Export all data
        </Button>
      </div>
      {isBusy ? <p className="mt-2 text-sm text-slate-600">An export is being made; the next can start once it is done.</p> : null}
      {start.isError ? <AccessError org={org} error={start.error} title="The export did not start" className="mt-4" /> : null}
      <h3 className="mt-6 mb-2 text-sm font-semibold text-slate-900">Exports</h3>
      {exports.isPending ? (
        <LoadingState label="Loading the exports…" />
      ) : exports.isError ? (
        <AccessError org={org} error={exports.error} title="The exports could not be loaded" onRetry={() => void exports.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No exports yet">Start one above; it is listed here with its progress, then its download.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100" data-testid="export-list">
          {items.map((item) => (
            <ExportItem key={item.id} item={item} />
          ))}
        </ul>
      )}
    </Card>
  );
}

// ---------------------------------------------------------------------------------- deletion

function confirmError(error: unknown): string | undefined {
  return error instanceof ApiProblem ? error.fieldErrors.confirm : undefined;
}

function DeleteDialog({ org, name, open, onClose }: { org: string; name: string; open: boolean; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const remove = useDeleteOrg(org);
  const router = useRouter();
  const toast = useToast();
  const isConfirmed = isDeletionConfirmed(typed, org);
  const fieldError = confirmError(remove.error);

  function close() {
    if (remove.isPending) return;
    setTyped("");
    remove.reset();
    onClose();
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!isConfirmed || remove.isPending) return;
    try {
      // Awaited rather than a callback of `mutate`: it resolves even if this dialog is gone by then.
      await remove.mutateAsync(typed.trim());
    } catch {
      return; // shown from `remove.error`
    }
    toast.show(`${name} is being deleted. Its members no longer have access.`);
    router.replace(paths.home);
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title={`Delete ${name}?`}
      description={
        <>
          Every task and score, the scoring models, members, roles, invitations, API keys, billing records and the audit log
          of {name} are deleted, and its subscription is canceled. Nobody can use the organization from now on. This cannot be
          undone: export the data first if you need it.
        </>
      }
    >
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field label={`Type ${org} to confirm`} error={fieldError}>
          {(control) => (
            <Input
              {...control}
              value={typed}
              onChange={(event) => setTyped(event.target.value)}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              data-testid="delete-confirm"
            />
          )}
        </Field>
        {remove.isError && !fieldError ? (
          <Alert tone="error" className="mt-3" title="The organization was not deleted">
            {describeError(remove.error).message}
          </Alert>
        ) : null}
        <div className="mt-5 flex flex-wrap justify-end gap-2">
          <Button variant="secondary" onClick={close} disabled={remove.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" disabled={!isConfirmed} isLoading={remove.isPending} data-testid="delete-submit">
            Delete {name}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function DangerZone({ org, name }: { org: string; name: string }) {
  const [isOpen, setIsOpen] = useState(false);
  return (
    <Card className="border-rose-300">
      <h2 className="text-lg font-semibold text-rose-900">Danger zone</h2>
      <div className="mt-3 flex flex-wrap items-center justify-between gap-4">
        <div className="min-w-0 max-w-prose text-sm text-slate-700">
          <p className="font-medium text-slate-900">Delete this organization</p>
          <p className="mt-1">
            Deletes all of its data and cancels its subscription. Members and API keys lose access at once. It cannot be
            undone.
          </p>
        </div>
        <Button variant="danger" onClick={() => setIsOpen(true)} data-testid="delete-org">
          Delete organization…
        </Button>
      </div>
      <DeleteDialog org={org} name={name} open={isOpen} onClose={() => setIsOpen(false)} />
    </Card>
  );
}

// ---------------------------------------------------------------------------------- the page

/** The org's settings: what it is, and for its owners, exporting all of its data or deleting it. */
export function SettingsScreen({ org }: { org: string }) {
  const access = useOrgAccess(org);
  const name = access.membership?.name ?? org;
  return (
    <>
      <PageHeader title="Settings" description="The organization, a copy of all of its data, and its deletion." />
      <div className="space-y-6">
        <OrganizationCard membership={access.membership} />
        {access.isPending ? (
          <LoadingState label="Loading your role…" />
        ) : access.can("org.owner") ? (
          <>
            <ExportCard org={org} />
            <DangerZone org={org} name={name} />
          </>
        ) : (
          <OwnersOnly name={name} />
        )}
      </div>
    </>
  );
}
