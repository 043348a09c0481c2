import { describe, expect, it } from "vitest";

import { contentSecurityPolicy, cspNonce } from "@/lib/security-headers";

function directives(policy: string): Map<string, string> {
  return new Map(
    policy.split(";").map((directive) => {
      const [name = "", ...sources] = directive.trim().split(/\s+/);
      return [name, sources.join(" ")];
    }),
  );
}

describe("contentSecurityPolicy", () => {
  it("lets only scripts with the page's nonce run in production, and no eval", () => {
    const policy = directives(contentSecurityPolicy("bm9uY2U=", { isDevelopment: false, isHttps: false }));

    expect(policy.get("script-src")).toBe("'self' 'nonce-bm9uY2U=' 'strict-dynamic'");
    expect(policy.get("style-src")).toBe("'self' 'nonce-bm9uY2U='");
    expect(policy.get("frame-ancestors")).toBe("'none'");
    expect(policy.get("object-src")).toBe("'none'");
    expect(policy.get("base-uri")).toBe("'none'");
    expect(policy.has("upgrade-insecure-requests")).toBe(false);
  });

  it("allows eval and inline styles under `next dev` only", () => {
    const policy = directives(contentSecurityPolicy("bm9uY2U=", { isDevelopment: true, isHttps: false }));

    expect(policy.get("script-src")).toBe("'self' 'nonce-bm9uY2U=' 'strict-dynamic' 'unsafe-eval'");
    expect(policy.get("style-src")).toBe("'self' 'unsafe-inline'");
  });

  it("upgrades insecure requests on a page served over HTTPS", () => {
    const policy = directives(contentSecurityPolicy("bm9uY2U=", { isDevelopment: false, isHttps: true }));

    expect(policy.has("upgrade-insecure-requests")).toBe(true);
  });
});

describe("cspNonce", () => {
  it("is 128 random bits in the base64 form a CSP nonce source accepts, new each time", () => {
    const nonces = new Set(Array.from({ length: 100 }, () => cspNonce()));

    expect(nonces.size).toBe(100);
    for (const nonce of nonces) {
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    }
  });
});
