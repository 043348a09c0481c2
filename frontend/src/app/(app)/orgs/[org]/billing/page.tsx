import type { Metadata } from "next";

import { PlannedPage } from "@/components/shell/PlannedPage";

export const metadata: Metadata = { title: "Billing" };

export default function BillingPage() {
  return (
    <PlannedPage
      title="Billing"
      description="The plan, usage and invoices of this organization."
      apiHint="see the plan and usage, and open Checkout or the portal, under /orgs/{org}/billing."
    />
  );
}
