import type { Metadata } from "next";

import { WithOptionalMe } from "@/components/auth/WithOptionalMe";

import { InvitationLanding } from "@/components/onboarding/InvitationLanding";

export const metadata: Metadata = { title: "Invitation" };

/** The page of the link in an invitation mail (`/invitations/{token}`). */
export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <>
      <h1 className="sr-only">Invitation to an organization</h1>
      <WithOptionalMe>
        <InvitationLanding token={decodeURIComponent(token)} />
      </WithOptionalMe>
    </>
  );
}
