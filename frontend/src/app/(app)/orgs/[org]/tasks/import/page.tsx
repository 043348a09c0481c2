import type { Metadata } from "next";

import { ImportTasks } from "@/components/tasks/ImportTasks";

export const metadata: Metadata = { title: "Import tasks" };

export default async function ImportPage({ params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  return <ImportTasks org={decodeURIComponent(org)} />;
}
