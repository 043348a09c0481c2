import type { ReactNode } from "react";

import { AppShell } from "@/components/shell/AppShell";

export default async function OrgLayout({ children, params }: { children: ReactNode; params: Promise<{ org: string }> }) {
  const { org } = await params;
  return <AppShell org={decodeURIComponent(org)}>{children}</AppShell>;
}
