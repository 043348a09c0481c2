"use client";

import "./globals.css";

/** The last resort when the root layout itself fails: a plain page that can try again. */
export default function GlobalError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body className="min-h-dvh font-sans">
        <main className="mx-auto max-w-md px-4 py-24 text-center">
          <h1 className="text-2xl font-semibold text-slate-900">Something went wrong</h1>
          <p className="mt-2 text-sm text-slate-600">Taskscore could not show this page. Please try again.</p>
          <button
            type="button"
            onClick={reset}
            className="mt-6 rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500"
          >
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
