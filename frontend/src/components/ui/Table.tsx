import type { ComponentProps, ReactNode } from "react";

import { cn } from "./cn";

/** A table that scrolls sideways on narrow screens instead of squeezing its columns. */
export function Table({
  caption,
  children,
  className,
  minWidth = "36rem",
}: {
  caption: ReactNode;
  children: ReactNode;
  className?: string;
  minWidth?: string;
}) {
  return (
    <div className={cn("relative overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm", className)}>
      <table className="w-full text-left text-sm" style={{ minWidth }}>
        <caption className="sr-only">{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export function THead({ children }: { children: ReactNode }) {
  return <thead className="border-b border-slate-200 bg-slate-50 text-xs tracking-wide text-slate-600 uppercase">{children}</thead>;
}

export function TBody({ children }: { children: ReactNode }) {
  return <tbody className="divide-y divide-slate-100">{children}</tbody>;
}

export function Th({ className, numeric = false, ...rest }: ComponentProps<"th"> & { numeric?: boolean }) {
  return <th scope="col" className={cn("px-3 py-2.5 font-medium", numeric && "text-right", className)} {...rest} />;
}

export function Td({ className, numeric = false, ...rest }: ComponentProps<"td"> & { numeric?: boolean }) {
  return <td className={cn("px-3 py-2.5 align-top", numeric && "text-right tabular-nums", className)} {...rest} />;
}
