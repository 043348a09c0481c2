import Link from "next/link";
import type { ReactNode } from "react";

import { Logo } from "@/components/Logo";

/** Pages a person meets before they are inside an org: one card in the middle of the screen. */
export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="flex min-h-dvh flex-col items-center justify-center px-4 py-12">
      <div className="w-full max-w-md">
        <div className="mb-6 flex justify-center">
          <Link href="/" className="rounded-md focus-visible:outline-2 focus-visible:outline-indigo-600">
            <Logo />
            <span className="sr-only">Taskscore home</span>
          </Link>
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">{children}</div>
      </div>
    </main>
  );
}
