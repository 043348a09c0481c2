import { redirect } from "next/navigation";

import { paths } from "@/lib/paths";

export default async function OrgHome({ params }: { params: Promise<{ org: string }> }) {
  const { org } = await params;
  redirect(paths.tasks(decodeURIComponent(org)));
}
