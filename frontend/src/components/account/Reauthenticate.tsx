"use client";

import { useCallback, useState, type ReactNode } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { Button, Dialog, Field, Input } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { ReauthenticationRequired, type ReauthenticationMethod } from "@/lib/api/mfa";
import { applyServerErrors } from "@/lib/forms";

/** Thrown by `run` when the person closes the "confirm it is you" dialog: nothing to report. */
export class ReauthenticationCancelled extends Error {
  override readonly name = "ReauthenticationCancelled";
}

interface Pending {
  methods: readonly ReauthenticationMethod[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs account actions that allauth may answer with "confirm it is you first": `run(action)`
 * sends it, and on that answer asks for the password (or a code) in a dialog and sends it again.
 * Render `dialog` once where the actions are.
 */
export function useReauthentication(): { run: <T>(action: () => Promise<T>) => Promise<T>; dialog: ReactNode } {
  const [pending, setPending] = useState<Pending | null>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ReauthenticationRequired)) throw error;
      await new Promise<void>((resolve, reject) => setPending({ methods: error.methods, resolve, reject }));
      return action();
    }
  }, []);
  const dialog = (
    <ReauthenticateDialog
      methods={pending?.methods ?? null}
      onConfirmed={() => {
        pending?.resolve();
        setPending(null);
      }}
      onCancel={() => {
        pending?.reject(new ReauthenticationCancelled());
        setPending(null);
      }}
    />
  );
  return { run, dialog };
}

interface ConfirmValues {
  password: string;
  code: string;
}

function ReauthenticateDialog({
  methods,
  onConfirmed,
  onCancel,
}: {
  methods: readonly ReauthenticationMethod[] | null;
  onConfirmed: () => void;
  onCancel: () => void;
}) {
  const client = useApiClient();
  const [method, setMethod] = useState<ReauthenticationMethod>("password");
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ConfirmValues>({ defaultValues: { password: "", code: "" } });
  const isOpen = methods !== null;
  const chosen: ReauthenticationMethod = methods && !methods.includes(method) ? (methods[0] ?? "password") : method;

  function close(done: () => void) {
    reset();
    setFormError(null);
    setMethod("password");
    done();
  }

  async function onSubmit(values: ConfirmValues) {
    setFormError(null);
    try {
      if (chosen === "password") await client.mfa.reauthenticate(values.password);
      else await client.mfa.reauthenticateWithCode(values.code.replace(/\s+/g, ""));
      close(onConfirmed);
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["password", "code"]);
      setFormError({ summary, details: unplaced });
    }
  }

  const other: ReauthenticationMethod | null = methods?.find((candidate) => candidate !== chosen) ?? null;
  return (
    <Dialog
      open={isOpen}
      onClose={() => close(onCancel)}
      title="Confirm it is you"
      description={
        chosen === "password"
          ? "Changes to two-factor authentication need your password once every few minutes."
          : "Changes to two-factor authentication need a code from your authenticator app (or a recovery code) once every few minutes."
      }
    >
      <form noValidate onSubmit={handleSubmit(onSubmit)} className="space-y-4" data-testid="reauthenticate-form">
        {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
        {chosen === "password" ? (
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
        ) : (
          <Field label="Code" hint="The 6-digit code your app shows, or a recovery code." error={errors.code?.message}>
            {(control) => (
              <Input
                {...control}
                autoComplete="one-time-code"
                spellCheck={false}
                {...register("code", { required: "Enter the code." })}
              />
            )}
          </Field>
        )}
        <div className="flex flex-wrap items-center justify-between gap-2">
          {other ? (
            <Button variant="ghost" size="sm" onClick={() => setMethod(other)}>
              {other === "password" ? "Use your password instead" : "Use a code instead"}
            </Button>
          ) : (
            <span />
          )}
          <div className="flex gap-2">
            <Button variant="secondary" onClick={() => close(onCancel)} disabled={isSubmitting}>
              Cancel
            </Button>
            <Button type="submit" isLoading={isSubmitting}>
              Confirm
            </Button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}
