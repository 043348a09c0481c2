import type { Metadata } from "next";

import { ResetPasswordForm } from "@/components/auth/ResetPasswordForm";

export const metadata: Metadata = { title: "Choose a new password" };

/** The page of the link in the password reset mail (`/account/password/reset/{key}`). */
export default async function ResetPasswordPage({ params }: { params: Promise<{ key: string }> }) {
  const { key } = await params;
  return (
    <>
      <h1 className="mb-4 text-xl font-semibold text-slate-900">Choose a new password</h1>
      <ResetPasswordForm resetKey={decodeURIComponent(key)} />
    </>
  );
}
