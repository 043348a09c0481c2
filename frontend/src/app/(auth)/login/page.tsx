import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { LoginForm } from "@/components/auth/LoginForm";
import { safeNextPath } from "@/lib/paths";
import { getSessionState } from "@/lib/server/session";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(typeof params.next === "string" ? params.next : undefined);
  if ((await getSessionState()) === "authenticated") redirect(next);
  const notice =
    params.reset === "1"
      ? "Your password is changed. Log in with the new one."
      : params.verified === "1"
        ? "Your email address is verified. Log in to continue."
        : undefined;
  return (
    <>
      <h1 className="mb-5 text-xl font-semibold text-slate-900">Log in to Taskscore</h1>
      <LoginForm next={next} notice={notice} />
    </>
  );
}
