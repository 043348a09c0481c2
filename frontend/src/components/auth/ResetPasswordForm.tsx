"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { Alert, Button, Field, Input, LoadingState, useToast } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { describeError } from "@/lib/errors";
import { applyServerErrors } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { queryKeys } from "@/lib/queries/keys";

import { FormError } from "./FormError";

interface ResetValues {
  password: string;
  confirm: string;
}

export function ResetPasswordForm({ resetKey }: { resetKey: string }) {
  const router = useRouter();
  const client = useApiClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keyQuery = useQuery({
    queryKey: ["password-reset-key", resetKey],
    queryFn: async () => {
      await client.checkPasswordResetKey(resetKey);
      return true;
    },
    retry: false,
  });
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    getValues,
    formState: { errors, isSubmitting },
  } = useForm<ResetValues>({ defaultValues: { password: "", confirm: "" } });

  async function onSubmit(values: ResetValues) {
    setFormError(null);
    try {
      await client.resetPassword({ key: resetKey, password: values.password });
      // The reset logs the person in (the link proved the address): straight into the app.
      // Forget "who is this" (a visitor until now); not everything: this page's key check would
      // then run again and fail, the key being used.
      queryClient.removeQueries({ queryKey: queryKeys.me });
      toast.show("Your password is changed.");
      router.replace(paths.home);
      router.refresh();
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["password"]);
      setFormError({ summary, details: unplaced });
    }
  }

  if (keyQuery.isPending) return <LoadingState label="Checking the link…" />;
  if (keyQuery.isError) {
    const isBadKey = describeError(keyQuery.error).isRetryable === false;
    return (
      <Alert
        tone="error"
        title={isBadKey ? "This link does not work any more" : "The link could not be checked"}
        actions={
          isBadKey ? (
            <Link href={paths.forgotPassword} className="font-semibold underline">
              Send a new link
            </Link>
          ) : (
            <button type="button" className="font-semibold underline" onClick={() => void keyQuery.refetch()}>
              Try again
            </button>
          )
        }
      >
        {isBadKey
          ? "A reset link works once and for a few days. Ask for a new one."
          : describeError(keyQuery.error).message}
      </Alert>
    );
  }
  return (
    <form noValidate onSubmit={handleSubmit(onSubmit)} className="space-y-4">
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label="New password" hint="At least 8 characters, not only digits, not a common password." error={errors.password?.message}>
        {(control) => (
          <Input
            {...control}
            type="password"
            autoComplete="new-password"
            {...register("password", {
              required: "Choose a password.",
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
            {...register("confirm", {
              validate: (value) => value === getValues("password") || "The two passwords differ.",
            })}
          />
        )}
      </Field>
      <Button type="submit" isLoading={isSubmitting} className="w-full">
        Set new password
      </Button>
    </form>
  );
}
