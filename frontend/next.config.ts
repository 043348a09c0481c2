import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The Django origin is read by src/proxy.ts when the server runs, never here:
  // anything in this file is frozen into the build.
};

export default nextConfig;
