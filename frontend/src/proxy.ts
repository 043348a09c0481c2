import { NextResponse, type NextRequest } from "next/server";

import { getServerEnv } from "@/lib/env";
import { loginPath } from "@/lib/paths";
import { contentSecurityPolicy, cspNonce } from "@/lib/security-headers";

/** Django's session cookie (SESSION_COOKIE_NAME's default). */
export const SESSION_COOKIE = "sessionid";
/** The path of the page being rendered, for server layouts that redirect to the login page. */
export const PATHNAME_HEADER = "x-taskscore-pathname";

const API_PREFIXES = ["/api/", "/_allauth/"];
/** Pages that need a logged-in person; the others (log in, sign up, links from mails) do not. */
const APP_PREFIXES = ["/orgs", "/account", "/onboarding"];
/** Pages under /account that the mails link to, open without a session. */
const PUBLIC_ACCOUNT_PREFIXES = ["/account/verify-email/", "/account/password/reset/"];

function startsWithAny(pathname: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => pathname === prefix || pathname.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`));
}

/**
 * 1. Forwards `/api/...` and `/_allauth/...` to Django. The target comes from DJANGO_ORIGIN at run
 *    time (next.config rewrites would freeze it at build time). A rewrite to another origin is
 *    streamed by Next's proxy: method, body, query string and every header pass through, and every
 *    Set-Cookie of the answer comes back, so the browser only ever sees this origin. Django reads
 *    the client's address from X-Forwarded-For, which server.mjs has set from the connection
 *    before this runs (a client's own is never passed on).
 * 2. Sends a visitor without a session from an app page to the login page, with the way back.
 * 3. Gives every page its Content-Security-Policy with a fresh nonce; Next reads the nonce from
 *    the request's copy of the header and puts it on the page's scripts.
 */
export function proxy(request: NextRequest): NextResponse {
  const { pathname, search } = request.nextUrl;
  if (API_PREFIXES.some((prefix) => pathname.startsWith(prefix))) {
    return NextResponse.rewrite(new URL(pathname + search, getServerEnv().DJANGO_ORIGIN));
  }
  const needsSession =
    startsWithAny(pathname, APP_PREFIXES) && !PUBLIC_ACCOUNT_PREFIXES.some((prefix) => pathname.startsWith(prefix));
  if (needsSession && !request.cookies.has(SESSION_COOKIE)) {
    return NextResponse.redirect(new URL(loginPath(pathname + search), request.url));
  }
  const policy = contentSecurityPolicy(cspNonce(), {
    isDevelopment: process.env.NODE_ENV === "development",
    isHttps: request.nextUrl.protocol === "https:",
  });
  const headers = new Headers(request.headers);
  headers.set(PATHNAME_HEADER, pathname + search);
  headers.set("Content-Security-Policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  // Everything but Next's own build assets (scripts, styles, fonts: not documents).
  matcher: ["/((?!_next/static|_next/image).*)", "/api/:path*", "/_allauth/:path*"],
};
