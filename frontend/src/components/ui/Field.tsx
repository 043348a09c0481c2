"use client";

import { useId, type ReactNode } from "react";

import { cn } from "./cn";

/** What a field passes to its control so that label, hint and error are wired for assistive tech. */
export interface FieldControlProps {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

interface FieldProps {
  label: ReactNode;
  /** Shown under the label: a format, a range, what the field is for. */
  hint?: ReactNode;
  error?: string | undefined;
  /** Visually hides the label (it is still read out). */
  hideLabel?: boolean;
  className?: string;
  children: (control: FieldControlProps) => ReactNode;
}

/**
 * A labelled form control with its hint and error message. The control is rendered by
 * `children`, which receives the id and ARIA attributes to spread on it.
 */
export function Field({ label, hint, error, hideLabel = false, className, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={className}>
      <label htmlFor={id} className={cn("mb-1 block text-sm font-medium text-slate-800", hideLabel && "sr-only")}>
        {label}
      </label>
      {hint ? (
        <p id={hintId} className="-mt-0.5 mb-1 text-xs text-slate-600">
          {hint}
        </p>
      ) : null}
      {children({ id, "aria-invalid": error ? true : undefined, "aria-describedby": describedBy })}
      <FieldError id={errorId} message={error} />
    </div>
  );
}

export function FieldError({ id, message }: { id?: string | undefined; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} data-testid="field-error" className="mt-1 text-sm text-rose-700">
      {message}
    </p>
  );
}
