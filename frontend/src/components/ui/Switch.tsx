"use client";

import { useId, type ReactNode } from "react";

import { cn } from "./cn";
import { Spinner } from "./Spinner";

interface SwitchProps {
  checked: boolean;
  onChange: (checked: boolean) => void;
  label: ReactNode;
  /** What turning it on or off does. */
  description?: ReactNode;
  disabled?: boolean;
  /** Shows a spinner beside the switch and disables it (while its change is being saved). */
  isLoading?: boolean;
  className?: string;
}

/**
 * An on/off setting that applies at once (`role="switch"`): Space or Enter flips it; the label and
 * the description are its accessible name and description.
 */
export function Switch({ checked, onChange, label, description, disabled = false, isLoading = false, className }: SwitchProps) {
  const id = useId();
  const isDisabled = disabled || isLoading;
  return (
    <div className={cn("flex items-start justify-between gap-4", className)}>
      <div className="min-w-0">
        <span id={`${id}-label`} className="block text-sm font-medium text-slate-900">
          {label}
        </span>
        {description ? (
          <span id={`${id}-description`} className="mt-0.5 block text-sm text-slate-600">
            {description}
          </span>
        ) : null}
      </div>
      <div className="flex shrink-0 items-center gap-2">
        {isLoading ? <Spinner className="text-slate-500" /> : null}
        <button
          type="button"
          role="switch"
          aria-checked={checked}
          aria-labelledby={`${id}-label`}
          aria-describedby={description ? `${id}-description` : undefined}
          aria-busy={isLoading || undefined}
          disabled={isDisabled}
          onClick={() => onChange(!checked)}
          className={cn(
            "relative inline-flex h-6 w-11 items-center rounded-full transition-colors",
            "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600",
            "disabled:cursor-not-allowed disabled:opacity-60",
            checked ? "bg-indigo-600" : "bg-slate-300",
          )}
        >
          <span
            aria-hidden="true"
            className={cn("inline-block size-5 rounded-full bg-white shadow transition-transform", checked ? "translate-x-5.5" : "translate-x-0.5")}
          />
          <span className="sr-only">{checked ? "On" : "Off"}</span>
        </button>
      </div>
    </div>
  );
}
