"use client";

import { useEffect, useState } from "react";
import { useForm } from "react-hook-form";

import { Button, Field, Input } from "@/components/ui";
import { AllauthError } from "@/lib/api/allauth";
import { useApiClient } from "@/lib/api/context";
import { applyServerErrors } from "@/lib/forms";

import { FormError } from "./FormError";

/** The step allauth forgot (its log-in attempt expired, or it was finished in another tab). */
const EXPIRED = "This log-in has expired. Start again with your email and password.";

/**
 * The log-in's second step, after a correct password of an account with two-factor
 * authentication: the code the authenticator app shows, or one of the recovery codes.
 */
export function TwoFactorLoginStep({ onLoggedIn, onStartOver }: { onLoggedIn: () => void; onStartOver: () => void }) {
  const client = useApiClient();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    setFocus,
    formState: { errors, isSubmitting },
  } = useForm<{ code: string }>({ defaultValues: { code: "" } });
  // The password form was replaced by this step: the code field is where the person goes on.
  useEffect(() => setFocus("code"), [setFocus]);

  async function onSubmit({ code }: { code: string }) {
    setFormError(null);
    try {
      await client.mfa.authenticate(code.replace(/\s+/g, ""));
      onLoggedIn();
    } catch (error) {
      if (error instanceof AllauthError && (error.status === 409 || error.status === 401)) {
        setFormError({ summary: EXPIRED, details: [] });
        return;
      }
      const { summary, unplaced } = applyServerErrors(error, setError, ["code"]);
      setFormError({ summary, details: unplaced });
    }
  }

  return (
    <form noValidate onSubmit={handleSubmit(onSubmit)} className="space-y-4" data-testid="two-factor-step">
      <p className="text-sm text-slate-700">
        Your account has two-factor authentication. Enter the 6-digit code your authenticator app shows, or one of your recovery
        codes.
      </p>
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label="Code" error={errors.code?.message}>
        {(control) => (
          <Input
            {...control}
            autoComplete="one-time-code"
            spellCheck={false}
            autoCapitalize="none"
            maxLength={32}
            className="font-mono tracking-widest"
            {...register("code", { required: "Enter the code from your app, or a recovery code." })}
          />
        )}
      </Field>
      <Button type="submit" isLoading={isSubmitting} className="w-full">
        Log in
      </Button>
      <Button variant="ghost" size="sm" onClick={onStartOver} disabled={isSubmitting}>
        Start over
      </Button>
    </form>
  );
}
