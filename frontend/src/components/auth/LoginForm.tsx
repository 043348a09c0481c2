"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { Alert, Button, Field, Input } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { applyServerErrors } from "@/lib/forms";
import { paths, verifyEmailNoticePath } from "@/lib/paths";
import { rememberVerificationEmail } from "@/lib/verification-email";

import { FormError } from "./FormError";
import { TwoFactorLoginStep } from "./TwoFactorLoginStep";

interface LoginValues {
  email: string;
  password: string;
}

const PENDING_STEP = "Your account needs another step before you can log in. Reload the page and try again.";

export function LoginForm({ next, notice }: { next: string; notice?: string | undefined }) {
  const router = useRouter();
  const client = useApiClient();
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  // After a right password of an account with two-factor authentication: the code step.
  const [isTwoFactorStep, setIsTwoFactorStep] = useState(false);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({ defaultValues: { email: "", password: "" } });

  function loggedIn() {
    queryClient.clear();
    router.replace(next);
    router.refresh();
  }

  async function onSubmit(values: LoginValues) {
    setFormError(null);
    try {
      const email = values.email.trim();
      const outcome = await client.login({ email, password: values.password });
      if (outcome.status === "pending") {
        if (outcome.flow === "verify_email") {
          // The password was right, the address is not verified yet: allauth mailed a new link.
          rememberVerificationEmail(email);
          router.replace(verifyEmailNoticePath(next));
          return;
        }
        if (outcome.flow === "mfa_authenticate") {
          setIsTwoFactorStep(true);
          return;
        }
        setFormError({ summary: PENDING_STEP, details: [] });
        return;
      }
      loggedIn();
    } catch (error) {
      // allauth names the password in its "email or password not correct" message; that one is
      // about both, so it goes on top of the form, not under the password.
      const { summary, unplaced } = applyServerErrors(error, setError, ["email"]);
      setFormError({ summary, details: unplaced });
    }
  }

  const signupHref = next !== "/" ? `${paths.signup}?next=${encodeURIComponent(next)}` : paths.signup;
  if (isTwoFactorStep) return <TwoFactorLoginStep onLoggedIn={loggedIn} onStartOver={() => setIsTwoFactorStep(false)} />;
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
