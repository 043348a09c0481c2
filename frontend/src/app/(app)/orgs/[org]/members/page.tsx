import type { Metadata } from "next";

import { PlannedPage } from "@/components/shell/PlannedPage";

export const metadata: Metadata = { title: "Members" };

export default function MembersPage() {
  return (
    <PlannedPage
      title="Members"
      description="Who is in this organization, their roles, and invitations."
      apiHint="list members, invite people, change roles and manage custom roles under /orgs/{org}/members, /invitations and /roles."
    />
  );
}
