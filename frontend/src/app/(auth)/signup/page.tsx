import type { Metadata } from "next";

import { SignupForm } from "@/components/auth/SignupForm";
import { safeNextPath } from "@/lib/paths";

export const metadata: Metadata = { title: "Create an account" };

export default async function SignupPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(typeof params.next === "string" ? params.next : undefined);
  const email = typeof params.email === "string" ? params.email : "";
  return (
    <>
      <h1 className="mb-1 text-xl font-semibold text-slate-900">Create your Taskscore account</h1>
      <p className="mb-5 text-sm text-slate-600">Score your team&apos;s tasks by a formula you control, blended with AI.</p>
      <SignupForm next={next} email={email} />
    </>
  );
}
