import type { Metadata } from "next";

import { PlannedPage } from "@/components/shell/PlannedPage";

export const metadata: Metadata = { title: "API keys" };

export default function ApiKeysPage() {
  return (
    <PlannedPage
      title="API keys"
      description="Keys that let programs use the API on this organization's behalf."
      apiHint="create and revoke keys under /orgs/{org}/api-keys."
    />
  );
}
