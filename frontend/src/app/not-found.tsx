import type { Metadata } from "next";
import Link from "next/link";

import { Logo } from "@/components/Logo";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main id="main" className="flex min-h-dvh flex-col items-center justify-center gap-6 px-4 py-12 text-center">
      <Logo />
      <div>
        <h1 className="text-2xl font-semibold text-slate-900">Page not found</h1>
        <p className="mt-2 text-sm text-slate-600">The link may be mistyped, or the page was moved or removed.</p>
      </div>
      <Link href="/" className="text-sm font-semibold text-indigo-700 underline hover:text-indigo-600">
        Go to Taskscore
      </Link>
    </main>
  );
}
