import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { LAST_ORG_COOKIE } from "@/components/shell/lastOrg";
import { paths } from "@/lib/paths";
import { serverApi } from "@/lib/server/api";

/** `/`: the last org the person worked in, their first, onboarding without one, or the login page. */
export default async function Home() {
  let target: string = paths.login;
  try {
    const api = await serverApi();
    const { data, response } = await api.GET("/api/v2/me");
    if (response.ok && data) {
      const last = (await cookies()).get(LAST_ORG_COOKIE)?.value;
      const org = data.orgs.find((candidate) => candidate.slug === last) ?? data.orgs[0];
      target = org ? paths.tasks(org.slug) : paths.onboarding;
    }
  } catch {
    // Django unreachable: the login page explains what it can.
  }
  redirect(target);
}
