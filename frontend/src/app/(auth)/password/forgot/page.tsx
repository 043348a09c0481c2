import type { Metadata } from "next";

import { ForgotPasswordForm } from "@/components/auth/ForgotPasswordForm";

export const metadata: Metadata = { title: "Forgot password" };

export default function ForgotPasswordPage() {
  return (
    <>
      <h1 className="mb-3 text-xl font-semibold text-slate-900">Reset your password</h1>
      <ForgotPasswordForm />
    </>
  );
}
