import type { ComponentProps } from "react";

import { cn } from "./cn";

export const controlClassName = cn(
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-xs",
  "placeholder:text-slate-500 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500/40",
  "disabled:cursor-not-allowed disabled:bg-slate-50 disabled:text-slate-500",
  "aria-invalid:border-rose-500 aria-invalid:focus:outline-rose-500/40",
);

export function Input({ className, ...rest }: ComponentProps<"input">) {
  return <input className={cn(controlClassName, className)} {...rest} />;
}

export function Textarea({ className, ...rest }: ComponentProps<"textarea">) {
  return <textarea className={cn(controlClassName, className)} {...rest} />;
}

export function Select({ className, ...rest }: ComponentProps<"select">) {
  return <select className={cn(controlClassName, "pr-8", className)} {...rest} />;
}

export function Checkbox({ className, ...rest }: Omit<ComponentProps<"input">, "type">) {
  return (
    <input
      type="checkbox"
      className={cn("size-4 rounded border-slate-400 text-indigo-600 focus-visible:outline-2 focus-visible:outline-indigo-500", className)}
      {...rest}
    />
  );
}
