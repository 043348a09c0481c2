import { NextResponse, type NextRequest } from "next/server";

import { getServerEnv } from "@/lib/env";

/**
 * Forwards `/api/...` and `/_allauth/...` to Django. The target comes from DJANGO_ORIGIN at
 * run time (next.config rewrites would freeze it at build time). A rewrite to another origin
 * is streamed by Next's proxy: method, body, query string and every header pass through, and
 * every Set-Cookie of the answer comes back, so the browser only ever sees this origin.
 */
export function proxy(request: NextRequest): NextResponse {
  const { pathname, search } = request.nextUrl;
  const target = new URL(pathname + search, getServerEnv().DJANGO_ORIGIN);
  return NextResponse.rewrite(target);
}

export const config = {
  matcher: ["/api/:path*", "/_allauth/:path*"],
};
