/**
 * The browser rules on the web app's answers (docs/decisions/0012-security-hardening.md, finding 4).
 * Django sets the same on its own answers (backend/taskscore/api/common/security_headers.py).
 */

/** Features Taskscore never uses, refused to its pages and to anything embedded in them. */
export const PERMISSIONS_POLICY =
  "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), " +
  "magnetometer=(), microphone=(), payment=(), usb=()";

/** On every answer of the web app, its static files included (next.config.ts). */
export const STATIC_SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Reset and verification links carry their keys in the path: the Referer never leaves the site.
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: PERMISSIONS_POLICY },
  // For browsers without CSP's frame-ancestors.
  { key: "X-Frame-Options", value: "DENY" },
];

/** A fresh, unguessable nonce for one page's scripts (128 random bits, base64). */
export function cspNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The Content-Security-Policy of one page (Next's guide, with the nonce src/proxy.ts makes for it).
 * Scripts run only with this page's nonce, and what they load ('strict-dynamic'); Next puts the
 * nonce on its own scripts when it renders the page (every page is rendered per request, see
 * app/layout.tsx). Style attributes are allowed (meters and charts set widths); style elements
 * and sheets come from this origin or carry the nonce. `next dev` needs eval and inline styles;
 * `next build` output never gets them.
 */
export function contentSecurityPolicy(nonce: string, { isDevelopment, isHttps }: { isDevelopment: boolean; isHttps: boolean }): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${isDevelopment ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' ${isDevelopment ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  // Over plain HTTP (`make run` on 127.0.0.1) an upgrade would break every asset.
  if (isHttps) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}
