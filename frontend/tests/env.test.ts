import { describe, expect, it } from "vitest";

import { parseServerEnv } from "@/lib/env";

describe("parseServerEnv", () => {
  it("defaults DJANGO_ORIGIN to the local Django", () => {
    expect(parseServerEnv({}).DJANGO_ORIGIN).toBe("http://127.0.0.1:8000");
    expect(parseServerEnv({ DJANGO_ORIGIN: "" }).DJANGO_ORIGIN).toBe("http://127.0.0.1:8000");
  });

  it("normalizes an origin with a trailing slash", () => {
    expect(parseServerEnv({ DJANGO_ORIGIN: "http://127.0.0.1:41234/" }).DJANGO_ORIGIN).toBe("http://127.0.0.1:41234");
  });

  it.each(["not a url", "ftp://example.com", "http://127.0.0.1:8000/api", "http://127.0.0.1:8000?x=1"])(
    "rejects %s",
    (value) => {
      expect(() => parseServerEnv({ DJANGO_ORIGIN: value })).toThrow(/DJANGO_ORIGIN/);
    },
  );
});
