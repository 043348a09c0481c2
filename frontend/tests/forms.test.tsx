import { renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { useSingleSubmission } from "@/lib/forms";

import { deferred } from "./helpers";

describe("useSingleSubmission", () => {
  it("runs one submission at a time, and none after one succeeded", async () => {
    const { result } = renderHook(() => useSingleSubmission());
    const answer = deferred<boolean>();
    const handler = vi.fn(() => answer.promise);
    const submit = result.current(handler);

    const first = submit();
    await submit(); // while the first runs
    answer.resolve(true);
    await first;
    await submit(); // after the success, before the form is gone
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("lets the person try again after a failure", async () => {
    const { result } = renderHook(() => useSingleSubmission());
    const handler = vi.fn<() => Promise<boolean>>().mockResolvedValueOnce(false).mockRejectedValueOnce(new Error("offline")).mockResolvedValueOnce(true);
    const submit = result.current(handler);

    await submit();
    await expect(submit()).rejects.toThrow("offline");
    await submit();
    await submit();
    expect(handler).toHaveBeenCalledTimes(3);
  });
});
