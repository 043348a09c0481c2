"use client";

import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { Alert, Button, Field, Input } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { applyServerErrors } from "@/lib/forms";
import { paths } from "@/lib/paths";

import { FormError } from "./FormError";

export function ForgotPasswordForm() {
  const client = useApiClient();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<{ email: string }>({ defaultValues: { email: "" } });

  async function onSubmit({ email }: { email: string }) {
    setFormError(null);
    try {
      await client.requestPasswordReset(email.trim());
      setSentTo(email.trim());
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["email"]);
      setFormError({ summary, details: unplaced });
    }
  }

  if (sentTo) {
    return (
      <div className="space-y-4">
        <Alert tone="success" title="Check your inbox">
          If an account exists for {sentTo}, we have sent it a link to choose a new password. The link works for a
          few days and only once.
        </Alert>
        <Link href={paths.login} className="text-sm font-medium text-indigo-700 underline hover:text-indigo-600">
          Back to log in
        </Link>
      </div>
    );
  }
  return (
    <form noValidate onSubmit={handleSubmit(onSubmit)} className="space-y-4">
      <p className="text-sm text-slate-600">Enter the email address of your account and we will mail you a link.</p>
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label="Email" error={errors.email?.message}>
        {(control) => (
          <Input {...control} type="email" autoComplete="email" {...register("email", { required: "Enter your email address." })} />
        )}
      </Field>
      <Button type="submit" isLoading={isSubmitting} className="w-full">
        Send reset link
      </Button>
      <Link href={paths.login} className="block text-sm font-medium text-indigo-700 underline hover:text-indigo-600">
        Back to log in
      </Link>
    </form>
  );
}
