import type { Metadata } from "next";

import { CompareVersions } from "@/components/scoring/CompareVersions";

export const metadata: Metadata = { title: "Compare scoring versions" };

export default async function ComparePage({ params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  return <CompareVersions org={decodeURIComponent(org)} />;
}
