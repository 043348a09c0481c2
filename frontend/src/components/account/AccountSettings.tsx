"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { LogoutButton } from "@/components/shell/LogoutButton";
import { Alert, Badge, Button, ButtonLink, Card, Field, Input, PageHeader, Skeleton, useToast } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { describeError } from "@/lib/errors";
import { applyServerErrors } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { queryKeys } from "@/lib/queries/keys";
import { useMe } from "@/lib/queries/me";

import { TwoFactorSection } from "./TwoFactorSection";

function EmailSection() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const emailsQuery = useQuery({ queryKey: queryKeys.emails, queryFn: () => client.listEmails() });
  const resend = useMutation({
    mutationFn: (email: string) => client.resendVerification(email),
    onSuccess: (_, email) => toast.show(`We sent a verification link to ${email}.`),
    onError: (error) => toast.show(describeError(error).message, "error"),
  });
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<{ email: string }>({ defaultValues: { email: "" } });

  async function onSubmit({ email }: { email: string }) {
    setFormError(null);
    try {
      await client.changeEmail(email.trim());
      reset();
      toast.show(`We sent a link to ${email.trim()}. Your address changes when you open it.`);
      await queryClient.invalidateQueries({ queryKey: queryKeys.emails });
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["email"]);
      setFormError({ summary, details: unplaced });
    }
  }

  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Email address</h2>
      <div className="mt-3">
        {emailsQuery.isPending ? (
          <Skeleton className="h-10" />
        ) : emailsQuery.isError ? (
          <Alert tone="error">{describeError(emailsQuery.error).message}</Alert>
        ) : (
          <ul className="space-y-2">
            {emailsQuery.data.map((address) => (
              <li key={address.email} className="flex flex-wrap items-center gap-2 text-sm">
                <span className="font-medium text-slate-900">{address.email}</span>
                {address.primary ? <Badge>Current</Badge> : <Badge tone="info">Pending change</Badge>}
                {address.verified ? <Badge tone="success">Verified</Badge> : <Badge tone="warning">Not verified</Badge>}
                {!address.verified ? (
                  <Button
                    size="sm"
                    variant="ghost"
                    isLoading={resend.isPending && resend.variables === address.email}
                    onClick={() => resend.mutate(address.email)}
                  >
                    Send the link again
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </div>
      <form noValidate onSubmit={handleSubmit(onSubmit)} className="mt-5 space-y-3">
        {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
        <Field
          label="New email address"
          hint="We send a link to the new address; it replaces the current one when you open it."
          error={errors.email?.message}
        >
          {(control) => (
            <Input {...control} type="email" autoComplete="email" {...register("email", { required: "Enter the new address." })} />
          )}
        </Field>
        <Button type="submit" variant="secondary" isLoading={isSubmitting}>
          Change email
        </Button>
      </form>
    </Card>
  );
}

interface PasswordValues {
  currentPassword: string;
  newPassword: string;
  confirm: string;
}

function PasswordSection() {
  const client = useApiClient();
  const toast = useToast();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    getValues,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<PasswordValues>({ defaultValues: { currentPassword: "", newPassword: "", confirm: "" } });

  async function onSubmit(values: PasswordValues) {
    setFormError(null);
    try {
      await client.changePassword({ currentPassword: values.currentPassword, newPassword: values.newPassword });
      reset();
      toast.show("Your password is changed.");
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["currentPassword", "newPassword"], (field) =>
        field === "current_password" ? "currentPassword" : field === "new_password" ? "newPassword" : field,
      );
      setFormError({ summary, details: unplaced });
    }
  }

  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Password</h2>
      <form noValidate onSubmit={handleSubmit(onSubmit)} className="mt-3 space-y-3">
        {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
        <Field label="Current password" error={errors.currentPassword?.message}>
          {(control) => (
            <Input
              {...control}
              type="password"
              autoComplete="current-password"
              {...register("currentPassword", { required: "Enter your current password." })}
            />
          )}
        </Field>
        <Field label="New password" hint="At least 8 characters, not only digits, not a common password." error={errors.newPassword?.message}>
          {(control) => (
            <Input
              {...control}
              type="password"
              autoComplete="new-password"
              {...register("newPassword", {
                required: "Choose a new password.",
                minLength: { value: 8, message: "Use at least 8 characters." },
              })}
            />
          )}
        </Field>
        <Field label="Repeat the new password" error={errors.confirm?.message}>
          {(control) => (
            <Input
              {...control}
              type="password"
              autoComplete="new-password"
              {...register("confirm", { validate: (value) => value === getValues("newPassword") || "The two passwords differ." })}
            />
          )}
        </Field>
        <Button type="submit" variant="secondary" isLoading={isSubmitting}>
          Change password
        </Button>
      </form>
    </Card>
  );
}

function OrgsSection() {
  const me = useMe().data;
  if (!me) return null;
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Organizations</h2>
      {me.orgs.length === 0 ? (
        <p className="mt-2 text-sm text-slate-600">You are not in any organization yet.</p>
      ) : (
        <ul className="mt-3 divide-y divide-slate-100">
          {me.orgs.map((org) => (
            <li key={org.slug} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <Link href={paths.tasks(org.slug)} className="font-medium text-indigo-700 underline hover:text-indigo-600">
                {org.name}
              </Link>
              <Badge>{org.role}</Badge>
            </li>
          ))}
        </ul>
      )}
      <div className="mt-4">
        <ButtonLink href={paths.onboarding} variant="secondary" size="sm">
          Create or join an organization
        </ButtonLink>
      </div>
    </Card>
  );
}

export function AccountSettings() {
  const me = useMe().data;
  return (
    <div className="mx-auto max-w-2xl">
      <PageHeader title="Account" description={me ? `Logged in as ${me.email}` : undefined} actions={<LogoutButton />} />
      <div className="space-y-6">
        <EmailSection />
        <PasswordSection />
        <TwoFactorSection />
        <OrgsSection />
      </div>
    </div>
  );
}
