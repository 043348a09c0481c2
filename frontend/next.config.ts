import type { NextConfig } from "next";

import { STATIC_SECURITY_HEADERS } from "./src/lib/security-headers";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The Django origin is read by src/proxy.ts when the server runs, never here:
  // anything in this file is frozen into the build.
  // Every answer, Next's build assets included; the pages' Content-Security-Policy, which carries
  // a per-request nonce, is set by src/proxy.ts.
  async headers() {
    return [{ source: "/:path*", headers: [...STATIC_SECURITY_HEADERS] }];
  },
};

export default nextConfig;
