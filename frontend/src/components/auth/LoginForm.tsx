"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { Alert, Button, Field, Input } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { applyServerErrors } from "@/lib/forms";
import { paths } from "@/lib/paths";

import { FormError } from "./FormError";

interface LoginValues {
  email: string;
  password: string;
}

export function LoginForm({ next, notice }: { next: string; notice?: string | undefined }) {
  const router = useRouter();
  const client = useApiClient();
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({ defaultValues: { email: "", password: "" } });

  async function onSubmit(values: LoginValues) {
    setFormError(null);
    try {
      await client.login({ email: values.email.trim(), password: values.password });
      queryClient.clear();
      router.replace(next);
      router.refresh();
    } catch (error) {
      // allauth names the password in its "email or password not correct" message; that one is
      // about both, so it goes on top of the form, not under the password.
      const { summary, unplaced } = applyServerErrors(error, setError, ["email"]);
      setFormError({ summary, details: unplaced });
    }
  }

  const signupHref = next !== "/" ? `${paths.signup}?next=${encodeURIComponent(next)}` : paths.signup;
  return (
    <form noValidate onSubmit={handleSubmit(onSubmit)} className="space-y-4">
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label="Email" error={errors.email?.message}>
        {(control) => (
          <Input
            {...control}
            type="email"
            autoComplete="username"
            {...register("email", { required: "Enter your email address." })}
          />
        )}
      </Field>
      <Field label="Password" error={errors.password?.message}>
        {(control) => (
          <Input
            {...control}
            type="password"
            autoComplete="current-password"
            {...register("password", { required: "Enter your password." })}
          />
        )}
      </Field>
      <Button type="submit" isLoading={isSubmitting} className="w-full">
        Log in
      </Button>
      <div className="flex flex-wrap justify-between gap-2 text-sm">
        <Link href={paths.forgotPassword} className="font-medium text-indigo-700 underline hover:text-indigo-600">
          Forgot your password?
        </Link>
        <Link href={signupHref} className="font-medium text-indigo-700 underline hover:text-indigo-600">
          Create an account
        </Link>
      </div>
    </form>
  );
}
