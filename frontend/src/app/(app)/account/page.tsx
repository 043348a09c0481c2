import type { Metadata } from "next";

import { AccountSettings } from "@/components/account/AccountSettings";
import { AppShell } from "@/components/shell/AppShell";

export const metadata: Metadata = { title: "Account" };

export default function AccountPage() {
  return (
    <AppShell>
      <AccountSettings />
    </AppShell>
  );
}
