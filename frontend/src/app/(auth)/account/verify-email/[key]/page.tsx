import type { Metadata } from "next";

import { WithOptionalMe } from "@/components/auth/WithOptionalMe";

import { VerifyEmailLink } from "@/components/auth/VerifyEmail";

export const metadata: Metadata = { title: "Verify your email address" };

/** The page of the link in the verification mail (`/account/verify-email/{key}`). */
export default async function VerifyEmailLinkPage({ params }: { params: Promise<{ key: string }> }) {
  const { key } = await params;
  return (
    <>
      <h1 className="mb-4 text-xl font-semibold text-slate-900">Verify your email address</h1>
      <WithOptionalMe>
        <VerifyEmailLink verificationKey={decodeURIComponent(key)} />
      </WithOptionalMe>
    </>
  );
}
