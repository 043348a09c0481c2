import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { LoginForm } from "@/components/LoginForm";
import { Logo } from "@/components/Logo";
import { getSessionState } from "@/lib/server/session";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage() {
  if ((await getSessionState()) === "authenticated") redirect("/");
  return (
    <main className="flex min-h-dvh items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex justify-center">
          <Logo />
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
          <h1 className="mb-5 text-xl font-semibold text-slate-900">Log in to your account</h1>
          <LoginForm />
        </div>
      </div>
    </main>
  );
}
