"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { Alert, Badge, Button, Card, ConfirmDialog, CopyButton, DateTime, Field, Input, Skeleton, useToast } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import type { RecoveryCodes, TotpOffer, TwoFactorStatus } from "@/lib/api/mfa";
import { describeError } from "@/lib/errors";
import { applyServerErrors } from "@/lib/forms";
import { queryKeys } from "@/lib/queries/keys";
import { useMe } from "@/lib/queries/me";

import { ReauthenticationCancelled, useReauthentication } from "./Reauthenticate";
import { TotpQrCode } from "./TotpQrCode";

/** What the section shows: the status, the set-up steps, or new recovery codes (once). */
type View = { kind: "status" } | { kind: "setup" } | { kind: "codes"; codes: readonly string[]; isNew: boolean };

function secondsToIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** The secret in groups of four, as authenticator apps show keys typed in by hand. */
function groupedSecret(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(" ") ?? secret;
}

function isCancelled(error: unknown): boolean {
  return error instanceof ReauthenticationCancelled;
}

// ---------------------------------------------------------------------------------- recovery codes

/** Saves the codes as a text file (made in the page: nothing is sent anywhere). */
function downloadCodes(codes: readonly string[]) {
  const text = `Taskscore recovery codes (each one logs in once)\n\n${codes.join("\n")}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "taskscore-recovery-codes.txt";
  link.click();
  URL.revokeObjectURL(url);
}

function RecoveryCodesPanel({ codes, isNew, onDone }: { codes: readonly string[]; isNew: boolean; onDone: () => void }) {
  return (
    <div className="space-y-4" data-testid="recovery-codes">
      <Alert tone="warning" title={isNew ? "Save your recovery codes now" : "Your recovery codes"}>
        <p>
          If you lose your phone, each code logs you in once instead of the app&apos;s code. They are shown only now: copy them or
          download them, and keep them somewhere safe (a password manager).
        </p>
      </Alert>
      <ul className="grid grid-cols-2 gap-2 rounded-lg border border-slate-200 bg-slate-50 p-4 font-mono text-sm sm:grid-cols-3" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code} className="text-slate-900" data-testid="recovery-code">
            {code}
          </li>
        ))}
      </ul>
      <div className="flex flex-wrap items-center gap-2">
        <CopyButton text={codes.join("\n")} label="Copy the codes" />
        <Button variant="secondary" size="sm" onClick={() => downloadCodes(codes)}>
          Download
        </Button>
        <Button size="sm" onClick={onDone} className="ml-auto">
          I have saved them
        </Button>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------------- set-up

function TotpSetup({
  run,
  onActivated,
  onCancel,
}: {
  run: <T>(action: () => Promise<T>) => Promise<T>;
  onActivated: (codes: RecoveryCodes) => void;
  onCancel: () => void;
}) {
  const client = useApiClient();
  // Each fetch makes a new secret (allauth keeps the newest in the session): fetched once per set-up.
  const offer = useQuery<TotpOffer>({
    queryKey: queryKeys.totpOffer,
    queryFn: () => client.mfa.totpOffer(),
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    retry: false,
  });
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<{ code: string }>({ defaultValues: { code: "" } });

  async function onSubmit({ code }: { code: string }) {
    setFormError(null);
    try {
      await run(() => client.mfa.totpActivate(code.replace(/\s+/g, "")));
      // The codes made with it, shown this once (allauth asked who it is moments ago).
      onActivated(await run(() => client.mfa.recoveryCodes()));
    } catch (error) {
      if (isCancelled(error)) return;
      const { summary, unplaced } = applyServerErrors(error, setError, ["code"]);
      setFormError({ summary, details: unplaced });
    }
  }

  if (offer.isPending) return <Skeleton className="h-48" />;
  if (offer.isError) {
    return (
      <Alert
        tone="error"
        title="Two-factor authentication could not be set up"
        actions={
          <Button variant="secondary" size="sm" onClick={() => void offer.refetch()}>
            Try again
          </Button>
        }
      >
        {describeError(offer.error).message}
      </Alert>
    );
  }
  return (
    <div className="space-y-5" data-testid="totp-setup">
      <ol className="space-y-5 text-sm text-slate-700">
        <li>
          <p className="font-medium text-slate-900">1. Scan this code with an authenticator app</p>
          <p className="mt-1">Any app that shows 6-digit codes works: 1Password, Google Authenticator, Microsoft Authenticator, Authy…</p>
          <div className="mt-3 flex flex-wrap items-start gap-5">
            <TotpQrCode
              url={offer.data.url}
              label="QR code to scan with an authenticator app"
              className="size-44 shrink-0 rounded-md border border-slate-200"
            />
            <div className="min-w-0 space-y-2">
              <p>Cannot scan it? Type this key into the app instead:</p>
              <p className="font-mono text-base break-all text-slate-900" data-testid="totp-secret">
                {groupedSecret(offer.data.secret)}
              </p>
              <CopyButton text={offer.data.secret} label="Copy the key" />
            </div>
          </div>
        </li>
        <li>
          <p className="font-medium text-slate-900">2. Enter the code the app shows</p>
          <form noValidate onSubmit={handleSubmit(onSubmit)} className="mt-2 space-y-3">
            {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
            <Field label="Code from the app" error={errors.code?.message}>
              {(control) => (
                <Input
                  {...control}
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  spellCheck={false}
                  maxLength={12}
                  className="max-w-48 font-mono tracking-widest"
                  {...register("code", {
                    required: "Enter the 6-digit code your app shows.",
                    validate: (value) => /^\d{6}$/.test(value.replace(/\s+/g, "")) || "The code is 6 digits.",
                  })}
                />
              )}
            </Field>
            <div className="flex flex-wrap gap-2">
              <Button type="submit" isLoading={isSubmitting}>
                Turn on two-factor authentication
              </Button>
              <Button variant="secondary" onClick={onCancel} disabled={isSubmitting}>
                Cancel
              </Button>
            </div>
          </form>
        </li>
      </ol>
    </div>
  );
}

// ---------------------------------------------------------------------------------- status

function ActiveStatus({
  status,
  run,
  onNewCodes,
}: {
  status: TwoFactorStatus & { totp: NonNullable<TwoFactorStatus["totp"]> };
  run: <T>(action: () => Promise<T>) => Promise<T>;
  onNewCodes: (codes: RecoveryCodes) => void;
}) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const me = useMe().data;
  const [confirming, setConfirming] = useState<"regenerate" | "deactivate" | null>(null);
  const requiredBy = me?.orgs.filter((org) => org.mfa_required).map((org) => org.name) ?? [];

  const regenerate = useMutation({
    mutationFn: () => run(() => client.mfa.recoveryCodesRegenerate()),
    onSuccess: async (codes) => {
      setConfirming(null);
      onNewCodes(codes);
      await queryClient.invalidateQueries({ queryKey: queryKeys.twoFactor });
    },
  });
  const deactivate = useMutation({
    mutationFn: () => run(() => client.mfa.totpDeactivate()),
    onSuccess: async () => {
      setConfirming(null);
      toast.show("Two-factor authentication is off.");
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.twoFactor }),
        queryClient.invalidateQueries({ queryKey: queryKeys.me }),
      ]);
    },
  });
  const failure = [regenerate, deactivate].find((mutation) => mutation.isError && !isCancelled(mutation.error));
  const codes = status.recoveryCodes;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2 text-sm text-slate-700">
        <Badge tone="success">On</Badge>
        <span>
          With an authenticator app since <DateTime iso={secondsToIso(status.totp.createdAt)} />.
        </span>
      </div>
      <p className="text-sm text-slate-700" data-testid="recovery-codes-left">
        {codes
          ? `${codes.unused} of ${codes.total} recovery codes left.`
          : "No recovery codes: make some, in case you lose your phone."}
        {codes && codes.unused <= 3 ? " Make new ones before they run out." : ""}
      </p>
      {failure?.error ? <Alert tone="error">{describeError(failure.error).message}</Alert> : null}
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" size="sm" onClick={() => setConfirming("regenerate")}>
          Make new recovery codes
        </Button>
        <Button variant="danger" size="sm" onClick={() => setConfirming("deactivate")}>
          Turn off
        </Button>
      </div>
      <ConfirmDialog
        open={confirming === "regenerate"}
        title="Make new recovery codes?"
        description="Your current recovery codes stop working, and the new ones are shown once."
        confirmLabel="Make new codes"
        isLoading={regenerate.isPending}
        onConfirm={() => regenerate.mutate()}
        onClose={() => setConfirming(null)}
      />
      <ConfirmDialog
        open={confirming === "deactivate"}
        title="Turn off two-factor authentication?"
        tone="danger"
        description={
          <>
            <span className="block">Logging in will need only your password, and your recovery codes stop working.</span>
            {requiredBy.length > 0 ? (
              <span className="mt-2 block font-medium text-amber-800">
                {requiredBy.join(", ")} {requiredBy.length === 1 ? "requires" : "require"} it of owners and admins: you cannot
                work there until you set it up again.
              </span>
            ) : null}
          </>
        }
        confirmLabel="Turn off"
        isLoading={deactivate.isPending}
        onConfirm={() => deactivate.mutate()}
        onClose={() => setConfirming(null)}
      />
    </div>
  );
}

/**
 * The account page's two-factor authentication: set up an authenticator app (QR code drawn on the
 * page, confirmed with a code), the recovery codes shown once, new codes, turning it off. allauth
 * asks for the password (or a code) before each change; the dialog for it comes from
 * `useReauthentication`.
 */
export function TwoFactorSection() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const { run, dialog } = useReauthentication();
  const [view, setView] = useState<View>({ kind: "status" });
  const status = useQuery({ queryKey: queryKeys.twoFactor, queryFn: () => client.mfa.status() });

  async function activated(codes: RecoveryCodes) {
    toast.show("Two-factor authentication is on.");
    setView(codes.codes ? { kind: "codes", codes: codes.codes, isNew: true } : { kind: "status" });
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: queryKeys.twoFactor }),
      queryClient.invalidateQueries({ queryKey: queryKeys.me }),
    ]);
  }

  let body;
  if (view.kind === "codes") {
    body = <RecoveryCodesPanel codes={view.codes} isNew={view.isNew} onDone={() => setView({ kind: "status" })} />;
  } else if (view.kind === "setup") {
    body = <TotpSetup run={run} onActivated={(codes) => void activated(codes)} onCancel={() => setView({ kind: "status" })} />;
  } else if (status.isPending) {
    body = <Skeleton className="h-16" />;
  } else if (status.isError) {
    body = (
      <Alert
        tone="error"
        actions={
          <Button variant="secondary" size="sm" onClick={() => void status.refetch()}>
            Try again
          </Button>
        }
      >
        {describeError(status.error).message}
      </Alert>
    );
  } else if (status.data.totp) {
    const totp = status.data.totp;
    body = (
      <ActiveStatus
        status={{ ...status.data, totp }}
        run={run}
        onNewCodes={(codes) => setView({ kind: "codes", codes: codes.codes ?? [], isNew: true })}
      />
    );
  } else {
    body = (
      <div className="space-y-3">
        <div className="flex flex-wrap items-center gap-2 text-sm text-slate-700">
          <Badge tone="warning">Off</Badge>
          <span>Logging in needs only your password.</span>
        </div>
        <p className="text-sm text-slate-600">
          With two-factor authentication, logging in also needs a code from an app on your phone, so a stolen password is not enough.
        </p>
        <Button onClick={() => setView({ kind: "setup" })}>Set up an authenticator app</Button>
      </div>
    );
  }

  return (
    <Card>
      <section id="two-factor" aria-labelledby="two-factor-heading" className="scroll-mt-6">
        <h2 id="two-factor-heading" className="text-lg font-semibold text-slate-900">
          Two-factor authentication
        </h2>
        <div className="mt-3">{body}</div>
      </section>
      {dialog}
    </Card>
  );
}
