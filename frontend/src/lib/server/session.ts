import "server-only";

import { cookies } from "next/headers";

import { ALLAUTH_BASE } from "@/lib/api/allauth";
import { getServerEnv } from "@/lib/env";

export type SessionState = "authenticated" | "anonymous" | "unknown";

const SESSION_CHECK_TIMEOUT_MS = 3000;

/**
 * Asks Django (server to server, with the visitor's cookies) whether the visitor is logged in,
 * so pages can redirect before rendering. "unknown" (Django down or odd answer) leaves the
 * decision to the client, which shows its own error.
 */
export async function getSessionState(): Promise<SessionState> {
  const cookieHeader = (await cookies()).toString();
  if (cookieHeader === "") return "anonymous";
  try {
    const response = await fetch(new URL(`${ALLAUTH_BASE}/auth/session`, getServerEnv().DJANGO_ORIGIN), {
      headers: { Cookie: cookieHeader, Accept: "application/json" },
      cache: "no-store",
      signal: AbortSignal.timeout(SESSION_CHECK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status === 200) return "authenticated";
    if (response.status === 401) return "anonymous";
    return "unknown";
  } catch {
    return "unknown";
  }
}
