"use client";

import { useId, useState } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import {
  Badge,
  Button,
  Card,
  Checkbox,
  ConfirmDialog,
  Dialog,
  EmptyState,
  Field,
  FieldError,
  Input,
  LoadingState,
  PageHeader,
  Skeleton,
  Table,
  TBody,
  Td,
  Th,
  THead,
  Textarea,
  useToast,
} from "@/components/ui";
import {
  groupByArea,
  permissionBlockReason,
  permissionPhrase,
  ROLE_DESCRIPTION_MAX,
  ROLE_KEY_MAX,
  ROLE_NAME_MAX,
  roleKeyError,
  roleKeyFromName,
} from "@/lib/access";
import { ApiProblem } from "@/lib/api/problem";
import type { Permission, Role } from "@/lib/api/types";
import { applyServerErrors, useIdempotencyKeys, useSingleSubmission } from "@/lib/forms";
import { useCreateRole, useDeleteRole, usePermissionCatalog, useRoles, useUpdateRole } from "@/lib/queries/access";
import { useOrgAccess } from "@/lib/queries/me";

import { AccessError, NotAllowed } from "./AccessError";
import { TeamTabs } from "./TeamTabs";

function capitalized(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

// ---------------------------------------------------------------------------------- built-in roles

/** The built-in roles side by side: which permission each holds, by area. Read-only. */
function BuiltinRoles({ roles, catalog }: { roles: readonly Role[]; catalog: readonly Permission[] }) {
  const builtin = roles.filter((role) => role.is_builtin);
  return (
    <section aria-labelledby="builtin-roles-heading" className="space-y-3">
      <div>
        <h2 id="builtin-roles-heading" className="text-lg font-semibold text-slate-900">
          Built-in roles
        </h2>
        <p className="mt-1 text-sm text-slate-600">The same in every organization; they cannot be changed. Each one holds everything the one to its right holds.</p>
      </div>
      <Table caption="Built-in roles and their permissions" minWidth="30rem" className="hidden sm:block">
        <THead>
          <tr>
            <Th>Permission</Th>
            {builtin.map((role) => (
              <Th key={role.key} className="w-24 text-center">
                {role.name}
              </Th>
            ))}
          </tr>
        </THead>
        <TBody>
          {groupByArea(catalog).map((group) => [
            <tr key={group.area} className="bg-slate-50/70">
              <th scope="colgroup" colSpan={builtin.length + 1} className="px-3 py-1.5 text-xs font-semibold tracking-wide text-slate-600 uppercase">
                {group.label}
              </th>
            </tr>,
            ...group.permissions.map((permission) => (
              <tr key={permission.key} data-testid="builtin-permission-row" data-permission={permission.key}>
                <Th scope="row" className="font-normal text-slate-800">
                  {permission.description}
                </Th>
                {builtin.map((role) => {
                  const holds = role.permissions.includes(permission.key);
                  return (
                    <Td key={role.key} className="text-center">
                      <span aria-hidden="true" className={holds ? "font-semibold text-emerald-700" : "text-slate-400"}>
                        {holds ? "✓" : "—"}
                      </span>
                      <span className="sr-only">{holds ? `${role.name}: yes` : `${role.name}: no`}</span>
                    </Td>
                  );
                })}
              </tr>
            )),
          ])}
        </TBody>
      </Table>
      {/* On a phone, a card per role: four columns of marks do not fit beside the permissions. */}
      <ul className="space-y-3 sm:hidden" aria-label="Built-in roles">
        {builtin.map((role) => (
          <li key={role.key} data-testid="builtin-role">
            <Card className="space-y-2">
              <p className="font-semibold text-slate-900">{role.name}</p>
              <ul className="flex flex-wrap gap-1.5" aria-label={`Permissions of ${role.name}`}>
                {catalog
                  .filter((permission) => role.permissions.includes(permission.key))
                  .map((permission) => (
                    <li key={permission.key}>
                      <Badge>{capitalized(permissionPhrase(permission.key))}</Badge>
                    </li>
                  ))}
              </ul>
            </Card>
          </li>
        ))}
      </ul>
    </section>
  );
}

// ---------------------------------------------------------------------------------- the editor

interface RoleValues {
  name: string;
  key: string;
  description: string;
}

/** Permission checkboxes grouped by area; the ones the editor does not hold are disabled, with why. */
function PermissionPicker({
  catalog,
  editorPermissions,
  selected,
  onToggle,
  error,
}: {
  catalog: readonly Permission[];
  editorPermissions: readonly string[];
  selected: ReadonlySet<string>;
  onToggle: (permission: string, isOn: boolean) => void;
  error: string | undefined;
}) {
  const id = useId();
  return (
    <div>
      <p className="text-sm font-medium text-slate-800">Permissions</p>
      <p className="mb-2 text-xs text-slate-600">A role can hold only permissions you hold yourself.</p>
      <div className="space-y-3" aria-invalid={error ? true : undefined}>
        {groupByArea(catalog).map((group) => (
          <fieldset key={group.area} className="rounded-lg border border-slate-200 px-3 pt-1 pb-2">
            <legend className="px-1 text-xs font-semibold tracking-wide text-slate-600 uppercase">{group.label}</legend>
            <ul className="space-y-2">
              {group.permissions.map((permission) => {
                const reason = permissionBlockReason(permission.key, editorPermissions);
                const inputId = `${id}-${permission.key}`;
                return (
                  <li key={permission.key} className="flex items-start gap-2">
                    <Checkbox
                      id={inputId}
                      className="mt-0.5"
                      checked={selected.has(permission.key)}
                      disabled={reason !== null}
                      aria-describedby={reason ? `${inputId}-why` : undefined}
                      onChange={(event) => onToggle(permission.key, event.target.checked)}
                    />
                    <span className="min-w-0 text-sm">
                      <label htmlFor={inputId} className={reason ? "text-slate-500" : "text-slate-900"}>
                        {permission.description}
                      </label>{" "}
                      <code className="text-xs text-slate-500">{permission.key}</code>
                      {reason ? (
                        <span id={`${inputId}-why`} className="block text-xs text-slate-500">
                          {reason}
                        </span>
                      ) : null}
                    </span>
                  </li>
                );
              })}
            </ul>
          </fieldset>
        ))}
      </div>
      <FieldError message={error} />
    </div>
  );
}

function RoleForm({
  org,
  editing: role,
  catalog,
  editorPermissions,
  onDone,
}: {
  org: string;
  /** The custom role to edit; null creates one. */
  editing: Role | null;
  catalog: readonly Permission[];
  editorPermissions: readonly string[];
  onDone: () => void;
}) {
  const toast = useToast();
  const create = useCreateRole(org);
  const update = useUpdateRole(org);
  const keys = useIdempotencyKeys();
  const submitOnce = useSingleSubmission();
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set(role?.permissions ?? []));
  const [permissionsError, setPermissionsError] = useState<string | undefined>();
  const [formError, setFormError] = useState<{ error: unknown; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    setValue,
    getFieldState,
    formState: { errors },
  } = useForm<RoleValues>({ defaultValues: { name: role?.name ?? "", key: role?.key ?? "", description: role?.description ?? "" } });
  const isPending = create.isPending || update.isPending;

  function toggle(permission: string, isOn: boolean) {
    setPermissionsError(undefined);
    setSelected((current) => {
      const next = new Set(current);
      if (isOn) next.add(permission);
      else next.delete(permission);
      return next;
    });
  }

  async function onSubmit(values: RoleValues): Promise<boolean> {
    setFormError(null);
    if (selected.size === 0) {
      setPermissionsError("Choose at least one permission.");
      return false;
    }
    // In the catalog's order, so that the same choice is the same request.
    const permissions = catalog.map((permission) => permission.key).filter((key) => selected.has(key));
    const common = { name: values.name.trim(), description: values.description.trim(), permissions };
    try {
      if (role === null) {
        const input = { key: values.key.trim(), ...common };
        const created = await create.mutateAsync({ input, idempotencyKey: keys.keyFor(input) });
        keys.reset();
        toast.show(`The role ${created.name} was created.`);
      } else {
        const updated = await update.mutateAsync({ key: role.key, patch: common });
        toast.show(`The role ${updated.name} was saved.`);
      }
      onDone();
      return true;
    } catch (error) {
      const { unplaced } = applyServerErrors(error, setError, ["name", "key", "description"] as const);
      if (error instanceof ApiProblem && error.fieldErrors.permissions) setPermissionsError(error.fieldErrors.permissions);
      setFormError({ error, details: unplaced.filter((message) => !message.startsWith("permissions:")) });
      return false;
    }
  }

  const nameField = register("name", {
    validate: (value) => (value.trim() === "" ? "Give the role a name." : true),
    onChange: (event: { target: { value: string } }) => {
      if (role === null && !getFieldState("key").isDirty) setValue("key", roleKeyFromName(event.target.value));
    },
  });

  return (
    <form noValidate onSubmit={handleSubmit(submitOnce(onSubmit))} className="space-y-4" aria-label={role ? `Edit ${role.name}` : "New custom role"}>
      {formError && !(formError.error instanceof ApiProblem && formError.error.status === 422) ? (
        <AccessError org={org} error={formError.error} title="The role was not saved" />
      ) : formError && formError.details.length > 0 ? (
        <FormError summary="Please correct the fields marked below." details={formError.details} />
      ) : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" error={errors.name?.message}>
          {(control) => <Input {...control} autoComplete="off" maxLength={ROLE_NAME_MAX} {...nameField} />}
        </Field>
        <Field
          label="Key"
          hint={role ? "Fixed once created." : "How the API names it; lowercase letters, digits and -."}
          error={errors.key?.message}
        >
          {(control) => (
            <Input
              {...control}
              autoComplete="off"
              spellCheck={false}
              maxLength={ROLE_KEY_MAX}
              readOnly={role !== null}
              className="font-mono"
              {...register("key", { validate: (value) => (role ? true : (roleKeyError(value.trim()) ?? true)) })}
            />
          )}
        </Field>
      </div>
      <Field label="Description" hint="Optional: what the role is for." error={errors.description?.message}>
        {(control) => <Textarea {...control} rows={2} maxLength={ROLE_DESCRIPTION_MAX} {...register("description")} />}
      </Field>
      <PermissionPicker catalog={catalog} editorPermissions={editorPermissions} selected={selected} onToggle={toggle} error={permissionsError} />
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={onDone} disabled={isPending}>
          Cancel
        </Button>
        <Button type="submit" isLoading={isPending}>
          {role ? "Save role" : "Create role"}
        </Button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------- custom roles

function CustomRoleCard({
  role,
  catalog,
  canManage,
  onEdit,
  onDelete,
}: {
  role: Role;
  catalog: readonly Permission[];
  canManage: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  // In the catalog's order (tasks first), as the editor lists them.
  const order = (permission: string) => {
    const index = catalog.findIndex((entry) => entry.key === permission);
    return index === -1 ? catalog.length : index;
  };
  const permissions = [...role.permissions].sort((a, b) => order(a) - order(b));
  return (
    <li data-testid="custom-role" data-role={role.key}>
      <Card className="space-y-3">
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <p className="flex flex-wrap items-center gap-2">
              <span className="font-semibold text-slate-900">{role.name}</span>
              <code className="text-xs text-slate-500">{role.key}</code>
            </p>
            {role.description ? <p className="mt-0.5 text-sm text-slate-600">{role.description}</p> : null}
          </div>
          {canManage && role.can_grant ? (
            <div className="flex flex-wrap gap-2">
              <Button variant="secondary" size="sm" onClick={onEdit} aria-label={`Edit ${role.name}`}>
                Edit
              </Button>
              <Button variant="ghost" size="sm" className="text-rose-700" onClick={onDelete} aria-label={`Delete ${role.name}`}>
                Delete
              </Button>
            </div>
          ) : canManage ? (
            <p className="max-w-xs text-xs text-slate-600">It holds permissions you do not, so you cannot change or delete it.</p>
          ) : null}
        </div>
        <ul className="flex flex-wrap gap-1.5" aria-label={`Permissions of ${role.name}`}>
          {permissions.map((permission) => (
            <li key={permission}>
              <Badge>{capitalized(permissionPhrase(permission))}</Badge>
            </li>
          ))}
        </ul>
      </Card>
    </li>
  );
}

function CustomRoles({
  org,
  roles,
  catalog,
  canManage,
  editorPermissions,
  onCreate,
}: {
  org: string;
  roles: readonly Role[];
  catalog: readonly Permission[];
  canManage: boolean;
  editorPermissions: readonly string[];
  onCreate: () => void;
}) {
  const toast = useToast();
  const remove = useDeleteRole(org);
  const [editing, setEditing] = useState<Role | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const custom = roles.filter((role) => !role.is_builtin);
  return (
    <section aria-labelledby="custom-roles-heading" className="space-y-3">
      <div>
        <h2 id="custom-roles-heading" className="text-lg font-semibold text-slate-900">
          Custom roles
        </h2>
        <p className="mt-1 text-sm text-slate-600">Roles of this organization with exactly the permissions you choose; give them to members and API keys.</p>
      </div>
      {custom.length === 0 ? (
        <EmptyState
          title="No custom roles yet"
          action={canManage ? <Button variant="secondary" onClick={onCreate}>New custom role</Button> : undefined}
        >
          When no built-in role fits — say, people who may re-score tasks but not change the model — make one.
        </EmptyState>
      ) : (
        <ul className="space-y-3" data-testid="custom-roles">
          {custom.map((role) => (
            <CustomRoleCard key={role.key} role={role} catalog={catalog} canManage={canManage} onEdit={() => setEditing(role)} onDelete={() => setDeleting(role)} />
          ))}
        </ul>
      )}
      <Dialog
        open={editing !== null}
        onClose={() => setEditing(null)}
        title={editing ? `Edit ${editing.name}` : ""}
        description="Members and API keys holding it get the new permissions with their next request."
        className="max-w-2xl"
      >
        {editing ? (
          <RoleForm key={editing.key} org={org} editing={editing} catalog={catalog} editorPermissions={editorPermissions} onDone={() => setEditing(null)} />
        ) : null}
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete the role ${deleting.name}?` : ""}
        description="Only a role nobody holds can be deleted: give its members and keys another role first."
        confirmLabel="Delete role"
        tone="danger"
        isLoading={remove.isPending}
        error={remove.error ? <AccessError org={org} error={remove.error} title="The role was not deleted" className="mt-3" /> : null}
        onClose={() => {
          remove.reset();
          setDeleting(null);
        }}
        onConfirm={() => {
          if (!deleting) return;
          remove.mutate(deleting.key, {
            onSuccess: () => {
              toast.show(`The role ${deleting.name} was deleted.`);
              setDeleting(null);
            },
          });
        }}
      />
    </section>
  );
}

// ---------------------------------------------------------------------------------- the page

/** The org's roles: the built-in ones read-only, custom ones created, edited and deleted. */
export function RolesScreen({ org }: { org: string }) {
  const access = useOrgAccess(org);
  const canRead = access.can("members.read");
  const canManage = access.can("members.manage");
  const roles = useRoles(org, canRead);
  const catalog = usePermissionCatalog(org, canRead);
  const [isCreating, setIsCreating] = useState(false);
  const editorPermissions = access.membership?.permissions ?? [];

  let body;
  if (access.isPending) {
    body = <LoadingState label="Loading the roles…" />;
  } else if (!canRead) {
    body = <NotAllowed permission="members.read" />;
  } else if (roles.isPending || catalog.isPending) {
    body = (
      <div className="space-y-3" aria-hidden="true">
        <Skeleton className="h-8 w-48" />
        <Skeleton className="h-64" />
      </div>
    );
  } else if (roles.isError || catalog.isError) {
    body = (
      <AccessError
        org={org}
        error={roles.error ?? catalog.error}
        title="The roles could not be loaded"
        onRetry={() => {
          void roles.refetch();
          void catalog.refetch();
        }}
      />
    );
  } else {
    body = (
      <div className="space-y-8">
        <CustomRoles
          org={org}
          roles={roles.data}
          catalog={catalog.data}
          canManage={canManage}
          editorPermissions={editorPermissions}
          onCreate={() => setIsCreating(true)}
        />
        <BuiltinRoles roles={roles.data} catalog={catalog.data} />
      </div>
    );
  }

  return (
    <>
      <PageHeader
        title="Roles"
        description="What each role lets its members and API keys do."
        actions={canManage && canRead ? <Button onClick={() => setIsCreating(true)}>New custom role</Button> : null}
      />
      <TeamTabs org={org} current="roles" />
      {body}
      <Dialog
        open={isCreating}
        onClose={() => setIsCreating(false)}
        title="New custom role"
        description="Choose its permissions; then give it to members and API keys."
        className="max-w-2xl"
      >
        {isCreating && catalog.data ? (
          <RoleForm org={org} editing={null} catalog={catalog.data} editorPermissions={editorPermissions} onDone={() => setIsCreating(false)} />
        ) : null}
      </Dialog>
    </>
  );
}
