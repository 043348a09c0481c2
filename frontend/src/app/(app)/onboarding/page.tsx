import type { Metadata } from "next";

import { Onboarding } from "@/components/onboarding/Onboarding";
import { AppShell } from "@/components/shell/AppShell";

export const metadata: Metadata = { title: "Get started" };

export default function OnboardingPage() {
  return (
    <AppShell>
      <Onboarding />
    </AppShell>
  );
}
