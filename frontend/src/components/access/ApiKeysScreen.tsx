"use client";

import type { UseQueryResult } from "@tanstack/react-query";
import { type ReactNode, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useForm, useWatch } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  CopyButton,
  DateTime,
  Dialog,
  EmptyState,
  Field,
  Input,
  LoadingState,
  PageHeader,
  Select,
  Skeleton,
  useToast,
} from "@/components/ui";
import {
  apiBaseUrl,
  canTouchRole,
  curlSnippet,
  expiresInDays,
  expiryMoment,
  grantableRoles,
  KEY_EXPIRY_CHOICES,
  KEY_EXPIRY_DEFAULT,
  KEY_EXPIRY_LABELS,
  KEY_NAME_MAX,
  keyExpiryDayError,
  keyExpiryDayRange,
  type KeyExpiry,
  roleNameOf,
} from "@/lib/access";
import { ApiProblem } from "@/lib/api/problem";
import type { ApiKey, CreatedApiKey, Role } from "@/lib/api/types";
import { applyServerErrors, useIdempotencyKeys, useSingleSubmission } from "@/lib/forms";
import { useApiKeys, useCreateApiKey, useRevokeApiKey, useRoles } from "@/lib/queries/access";
import { useOrgAccess } from "@/lib/queries/me";
import { itemsOf } from "@/lib/queries/options";

import { AccessError, NotAllowed } from "./AccessError";

const noSubscription = () => () => {};

/** This web app's origin: the browser's, or what the server was asked for while it renders. */
function useOrigin(serverOrigin: string): string {
  return useSyncExternalStore(
    noSubscription,
    () => window.location.origin,
    () => serverOrigin,
  );
}

// ---------------------------------------------------------------------------------- create

interface KeyValues {
  name: string;
  role: string;
  expiry: KeyExpiry;
  /** The chosen day (`YYYY-MM-DD`) when `expiry` is "date". */
  day: string;
}

/** What the expiry field says the choice means: the moment the key stops working, or that it never does. */
function expiryHint(expiry: KeyExpiry, day: string): ReactNode {
  if (expiry === "never") return "It works until someone revokes it. A key that never expires is riskier if it leaks.";
  const now = new Date();
  const days = expiresInDays(expiry, day, now);
  if (days === null || (expiry === "date" && keyExpiryDayError(day, now) !== null)) return "Choose the day it stops working.";
  return (
    <>
      It stops working on <DateTime iso={expiryMoment(days, now).toISOString()} />; programs using it then get a 401.
    </>
  );
}

function CreateKeyForm({
  org,
  roles,
  onCreated,
  onCancel,
}: {
  org: string;
  roles: readonly Role[];
  onCreated: (created: CreatedApiKey) => void;
  onCancel: () => void;
}) {
  const create = useCreateApiKey(org);
  const keys = useIdempotencyKeys();
  const submitOnce = useSingleSubmission();
  const [formError, setFormError] = useState<{ error: unknown; details: string[] } | null>(null);
  const choices = grantableRoles(roles);
  const defaultRole = choices.find((role) => role.key === "viewer")?.key ?? choices[0]?.key ?? "";
  const {
    register,
    handleSubmit,
    setError,
    control: formControl,
    formState: { errors },
  } = useForm<KeyValues>({ defaultValues: { name: "", role: defaultRole, expiry: KEY_EXPIRY_DEFAULT, day: "" } });
  const expiry = useWatch({ control: formControl, name: "expiry" });
  const day = useWatch({ control: formControl, name: "day" });
  const dayRange = keyExpiryDayRange(new Date());

  async function onSubmit(values: KeyValues): Promise<boolean> {
    setFormError(null);
    const input = {
      name: values.name.trim(),
      role: values.role,
      expires_in_days: expiresInDays(values.expiry, values.day, new Date()),
    };
    try {
      const created = await create.mutateAsync({ input, idempotencyKey: keys.keyFor(input) });
      keys.reset();
      onCreated(created);
      return true;
    } catch (error) {
      const { unplaced } = applyServerErrors(error, setError, ["name", "role", "expiry"] as const, (field) =>
        field === "expires_in_days" ? "expiry" : field,
      );
      setFormError({ error, details: unplaced });
      return false;
    }
  }

  if (choices.length === 0) return <Alert tone="info">Your role cannot hand out any role, so you cannot create a key.</Alert>;
  return (
    <form noValidate onSubmit={handleSubmit(submitOnce(onSubmit))} className="space-y-4" aria-label="Create an API key">
      {formError && !(formError.error instanceof ApiProblem && formError.error.status === 422) ? (
        <AccessError org={org} error={formError.error} title="The key was not created" />
      ) : formError ? (
        <FormError summary="Please correct the fields marked below." details={formError.details} />
      ) : null}
      <Field label="Name" hint="What uses it, so you know which key to revoke later (“CI”, “Zapier”)." error={errors.name?.message}>
        {(control) => (
          <Input
            {...control}
            autoComplete="off"
            maxLength={KEY_NAME_MAX}
            {...register("name", { validate: (value) => (value.trim() === "" ? "Give the key a name." : true) })}
          />
        )}
      </Field>
      <Field label="Role" hint="What the key may do. Give it the least it needs; only roles within your own permissions are offered." error={errors.role?.message}>
        {(control) => (
          <Select {...control} {...register("role")}>
            {choices.map((role) => (
              <option key={role.key} value={role.key}>
                {role.name}
                {role.is_builtin ? "" : " (custom)"}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label="Expires" hint={expiryHint(expiry, day)} error={errors.expiry?.message}>
        {(control) => (
          <Select {...control} {...register("expiry")}>
            {KEY_EXPIRY_CHOICES.map((choice) => (
              <option key={choice} value={choice}>
                {KEY_EXPIRY_LABELS[choice]}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {expiry === "date" ? (
        <Field label="Expiry date" error={errors.day?.message}>
          {(control) => (
            <Input
              {...control}
              type="date"
              min={dayRange.min}
              max={dayRange.max}
              {...register("day", { validate: (value) => keyExpiryDayError(value, new Date()) ?? true })}
            />
          )}
        </Field>
      ) : null}
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={onCancel} disabled={create.isPending}>
          Cancel
        </Button>
        <Button type="submit" isLoading={create.isPending}>
          Create key
        </Button>
      </div>
    </form>
  );
}

/** The new key's token, once: copy it now, it is never shown again. */
function NewToken({ created, roles, onDone }: { created: CreatedApiKey; roles: readonly Role[]; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  // The form that had the focus is gone: the token takes it, selected, ready to be copied.
  useEffect(() => input.current?.focus(), []);
  return (
    <div className="space-y-4" data-testid="new-token">
      <Alert tone="warning" title="You will not see this key again">
        Copy it now and keep it where secrets belong (a password manager, your CI&apos;s secrets). If you lose it, revoke it and
        create a new one.
      </Alert>
      <div>
        <label htmlFor="new-token-value" className="mb-1 block text-sm font-medium text-slate-800">
          The key “{created.name}” ({roleNameOf(roles, created.role)})
        </label>
        <Input
          ref={input}
          id="new-token-value"
          readOnly
          value={created.token}
          spellCheck={false}
          className="font-mono text-xs"
          data-testid="new-token-value"
          onFocus={(event) => event.target.select()}
        />
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <CopyButton
          text={created.token}
          label="Copy the key"
          variant="primary"
          size="md"
          onFailure={() => {
            input.current?.focus();
            input.current?.select();
          }}
        />
        <Button variant="secondary" onClick={onDone}>
          I have copied it
        </Button>
      </div>
    </div>
  );
}

function CreateKeyDialog({
  org,
  roles,
  canReadRoles,
  isOpen,
  onClose,
}: {
  org: string;
  roles: UseQueryResult<Role[]>;
  canReadRoles: boolean;
  isOpen: boolean;
  onClose: () => void;
}) {
  const toast = useToast();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const close = () => {
    // The token leaves memory with the dialog: it is shown once.
    setCreated(null);
    onClose();
  };
  return (
    <Dialog
      open={isOpen}
      onClose={close}
      title={created ? "Copy your new API key" : "Create an API key"}
      description={created ? undefined : "Programs use it to call the API in this organization's name, with the role you choose."}
    >
      {!isOpen ? null : created ? (
        <NewToken created={created} roles={roles.data ?? []} onDone={close} />
      ) : !canReadRoles ? (
        <Alert tone="info">Choosing the key&apos;s role needs the permission to see members and roles: ask an owner or admin.</Alert>
      ) : roles.isPending ? (
        <LoadingState label="Loading the roles…" />
      ) : roles.isError ? (
        <AccessError org={org} error={roles.error} title="The roles could not be loaded" onRetry={() => void roles.refetch()} />
      ) : (
        <CreateKeyForm
          org={org}
          roles={roles.data}
          onCancel={close}
          onCreated={(key) => {
            setCreated(key);
            toast.show(`The key “${key.name}” was created.`);
          }}
        />
      )}
    </Dialog>
  );
}

// ---------------------------------------------------------------------------------- the list

/** How each state of a key shows in the list: a badge for those that no longer work. */
const KEY_STATUS: Record<ApiKey["status"], { badge: { label: string; tone: "warning" | "danger" } | null }> = {
  active: { badge: null },
  expired: { badge: { label: "Expired", tone: "warning" } },
  revoked: { badge: { label: "Revoked", tone: "danger" } },
};

/** When the key stops (or stopped) working, as the list says it; nothing for a revoked key. */
function ExpiryFact({ apiKey }: { apiKey: ApiKey }) {
  if (apiKey.status === "revoked") return null;
  if (apiKey.expires_at === null) return <> · never expires</>;
  return (
    <>
      {" "}
      · {apiKey.status === "expired" ? "expired" : "expires"} <DateTime iso={apiKey.expires_at} />
    </>
  );
}

function KeyRow({ apiKey, roles, canRevoke, onRevoke }: { apiKey: ApiKey; roles: readonly Role[] | undefined; canRevoke: boolean; onRevoke: () => void }) {
  const isActive = apiKey.status === "active";
  const isRevoked = apiKey.status === "revoked";
  const badge = KEY_STATUS[apiKey.status].badge;
  return (
    <li
      data-testid="api-key-row"
      data-prefix={apiKey.prefix}
      data-state={apiKey.status}
      className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2 py-3"
    >
      <div className="min-w-0">
        <p className="flex flex-wrap items-center gap-2">
          <span className={isActive ? "font-medium text-slate-900" : "font-medium text-slate-500 line-through"}>{apiKey.name}</span>
          <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700">ts_{apiKey.prefix}…</code>
          <Badge>
            <span className="sr-only">Role: </span>
            {roleNameOf(roles, apiKey.role)}
          </Badge>
          {badge ? <Badge tone={badge.tone}>{badge.label}</Badge> : null}
        </p>
        <p className="mt-0.5 text-xs text-slate-600" data-testid="api-key-facts">
          Created by {apiKey.created_by ?? "an operator or another key"} · <DateTime iso={apiKey.created_at} /> ·{" "}
          {apiKey.last_used_at ? (
            <>
              last used <DateTime iso={apiKey.last_used_at} />
            </>
          ) : (
            "never used"
          )}
          <ExpiryFact apiKey={apiKey} />
          {apiKey.revoked_at ? (
            <>
              {" "}
              · revoked <DateTime iso={apiKey.revoked_at} />
            </>
          ) : null}
        </p>
      </div>
      {!isRevoked && canRevoke ? (
        <Button variant="ghost" size="sm" className="text-rose-700" onClick={onRevoke} aria-label={`Revoke ${apiKey.name}`}>
          Revoke
        </Button>
      ) : null}
    </li>
  );
}

function KeyList({ org, roles, canManage, onCreate }: { org: string; roles: readonly Role[] | undefined; canManage: boolean; onCreate: () => void }) {
  const toast = useToast();
  const apiKeys = useApiKeys(org);
  const revoke = useRevokeApiKey(org);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const items = itemsOf(apiKeys.data);

  let content;
  if (apiKeys.isPending) {
    content = (
      <div className="space-y-2" aria-hidden="true">
        {[0, 1].map((row) => (
          <Skeleton key={row} className="h-12" />
        ))}
      </div>
    );
  } else if (apiKeys.isError && items.length === 0) {
    content = <AccessError org={org} error={apiKeys.error} title="The API keys could not be loaded" onRetry={() => void apiKeys.refetch()} />;
  } else if (items.length === 0) {
    content = (
      <EmptyState title="No API keys yet" action={canManage ? <Button variant="secondary" onClick={onCreate}>Create an API key</Button> : undefined}>
        A key lets a program — a script, your CI, another service — submit and read tasks in this organization&apos;s name.
      </EmptyState>
    );
  } else {
    content = (
      <ul className="divide-y divide-slate-100" data-testid="api-key-list">
        {items.map((apiKey) => (
          <KeyRow
            key={apiKey.id}
            apiKey={apiKey}
            roles={roles}
            canRevoke={canManage && canTouchRole(roles, apiKey.role)}
            onRevoke={() => setRevoking(apiKey)}
          />
        ))}
      </ul>
    );
  }

  return (
    <Card className="min-w-0">
      <h2 className="text-lg font-semibold text-slate-900">Keys</h2>
      <p className="mt-1 mb-2 text-sm text-slate-600">Newest first; revoked keys stay listed for the record.</p>
      {content}
      {apiKeys.hasNextPage ? (
        <Button variant="secondary" className="mt-3 w-full" onClick={() => void apiKeys.fetchNextPage()} isLoading={apiKeys.isFetchingNextPage}>
          Show more keys
        </Button>
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title={revoking ? `Revoke the key “${revoking.name}”?` : ""}
        description="Programs using it are refused from their next request (401). This cannot be undone; create a new key to replace it."
        confirmLabel="Revoke key"
        tone="danger"
        isLoading={revoke.isPending}
        error={revoke.error ? <AccessError org={org} error={revoke.error} title="The key was not revoked" className="mt-3" /> : null}
        onClose={() => {
          revoke.reset();
          setRevoking(null);
        }}
        onConfirm={() => {
          if (!revoking) return;
          revoke.mutate(revoking.id, {
            onSuccess: () => {
              toast.show(`The key “${revoking.name}” was revoked.`);
              setRevoking(null);
            },
          });
        }}
      />
    </Card>
  );
}

/** How to use a key: the API's base URL and a first request, with this app's real origin. */
function UseIt({ org, origin }: { org: string; origin: string }) {
  const snippet = curlSnippet(origin, org);
  return (
    <Card className="space-y-3">
      <h2 className="text-lg font-semibold text-slate-900">Use it</h2>
      <p className="text-sm text-slate-600">
        Send the key as a bearer token. The API&apos;s address for this organization:
      </p>
      <p className="flex flex-wrap items-center gap-2">
        <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs break-all text-slate-800" data-testid="api-base-url">
          {apiBaseUrl(origin)}/orgs/{org}
        </code>
      </p>
      <pre className="overflow-x-auto rounded-lg bg-slate-900 p-3 text-xs leading-relaxed text-slate-100" data-testid="curl-snippet">
        <code>{snippet}</code>
      </pre>
      <CopyButton text={snippet} label="Copy the example" />
      <p className="text-sm text-slate-600">
        Every endpoint, with its fields and errors, is in the{" "}
        <a href="/api/v2/docs" className="font-medium text-indigo-700 underline">
          API reference
        </a>
        .
      </p>
    </Card>
  );
}

// ---------------------------------------------------------------------------------- the page

/** The org's API keys: create one (its token shown once), see when each was used, revoke. */
export function ApiKeysScreen({ org, serverOrigin }: { org: string; serverOrigin: string }) {
  const access = useOrgAccess(org);
  const origin = useOrigin(serverOrigin);
  const canRead = access.can("apikeys.read");
  const canManage = access.can("apikeys.manage");
  const canReadRoles = access.can("members.read");
  const roles = useRoles(org, canRead && canReadRoles);
  const [isCreating, setIsCreating] = useState(false);

  let body;
  if (access.isPending) {
    body = <LoadingState label="Loading the API keys…" />;
  } else if (!canRead) {
    body = <NotAllowed permission="apikeys.read" />;
  } else {
    body = (
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <KeyList org={org} roles={roles.data} canManage={canManage} onCreate={() => setIsCreating(true)} />
        <div className="min-w-0 space-y-6">
          <UseIt org={org} origin={origin} />
          {!canManage ? (
            <p className="text-sm text-slate-600">Creating and revoking keys needs the permission to manage API keys: ask an owner or admin.</p>
          ) : null}
        </div>
      </div>
    );
  }

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys let programs use the API in this organization's name, each with a role."
        actions={canManage && canRead ? <Button onClick={() => setIsCreating(true)}>Create API key</Button> : null}
      />
      {body}
      <CreateKeyDialog org={org} roles={roles} canReadRoles={canReadRoles} isOpen={isCreating} onClose={() => setIsCreating(false)} />
    </>
  );
}
