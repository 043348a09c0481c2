import type { Metadata } from "next";

import { PlannedPage } from "@/components/shell/PlannedPage";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditLogPage() {
  return (
    <PlannedPage
      title="Audit log"
      description="Who changed what, and when."
      apiHint="read the log under /orgs/{org}/audit-events."
    />
  );
}
