import type { Metadata } from "next";

import { WithOptionalMe } from "@/components/auth/WithOptionalMe";

import { VerifyEmailNotice } from "@/components/auth/VerifyEmail";
import { isOutboxAvailable } from "@/lib/server/api";

export const metadata: Metadata = { title: "Verify your email address" };

export default async function VerifyEmailNoticePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  return (
    <>
      <h1 className="mb-4 text-xl font-semibold text-slate-900">Check your inbox</h1>
      <WithOptionalMe>
        <VerifyEmailNotice next={typeof params.next === "string" ? params.next : undefined} outboxAvailable={await isOutboxAvailable()} />
      </WithOptionalMe>
    </>
  );
}
