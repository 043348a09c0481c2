"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { Button, Field, Input } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { applyServerErrors } from "@/lib/forms";
import { loginPath, verifyEmailNoticePath } from "@/lib/paths";
import { rememberVerificationEmail } from "@/lib/verification-email";

import { FormError } from "./FormError";

interface SignupValues {
  email: string;
  password: string;
}

/** Django's minimum (MinimumLengthValidator); the server checks it and the other rules too. */
const PASSWORD_HINT = "At least 8 characters, not only digits, not a common password.";

export function SignupForm({ next, email }: { next: string; email: string }) {
  const router = useRouter();
  const client = useApiClient();
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<SignupValues>({ defaultValues: { email, password: "" } });

  async function onSubmit(values: SignupValues) {
    setFormError(null);
    try {
      const email = values.email.trim();
      // Whether the address is new or has an account, the answer is the same (a verification
      // is pending, nobody is logged in) and the next step too: the mail.
      await client.signup({ email, password: values.password });
      rememberVerificationEmail(email);
      queryClient.clear();
      router.replace(verifyEmailNoticePath(next));
      router.refresh();
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["email", "password"], (field) =>
        field === "password1" ? "password" : field,
      );
      setFormError({ summary, details: unplaced });
    }
  }

  return (
    <form noValidate onSubmit={handleSubmit(onSubmit)} className="space-y-4">
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label="Email" error={errors.email?.message}>
        {(control) => (
          <Input
            {...control}
            type="email"
            autoComplete="email"
            {...register("email", { required: "Enter your email address." })}
          />
        )}
      </Field>
      <Field label="Password" hint={PASSWORD_HINT} error={errors.password?.message}>
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
      <Button type="submit" isLoading={isSubmitting} className="w-full">
        Create account
      </Button>
      <p className="text-sm text-slate-600">
        Have an account?{" "}
        <Link href={loginPath(next)} className="font-medium text-indigo-700 underline hover:text-indigo-600">
          Log in
        </Link>
      </p>
    </form>
  );
}
