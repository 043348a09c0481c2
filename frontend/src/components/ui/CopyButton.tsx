"use client";

import { useEffect, useRef, useState } from "react";

import { Button, type ButtonSize, type ButtonVariant } from "./Button";

type CopyState = "idle" | "copied" | "failed";

const RESET_MS = 3000;

/** Puts `text` on the clipboard; false when the browser refuses (no permission, an insecure page). */
async function writeClipboard(text: string): Promise<boolean> {
  try {
    if (!navigator.clipboard?.writeText) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies `text` to the clipboard and says so next to the button (read out too). When the browser
 * refuses, it says to select and copy the text by hand, and `onFailure` can select it.
 */
export function CopyButton({
  text,
  label = "Copy",
  variant = "secondary",
  size = "sm",
  onFailure,
  className,
}: {
  text: string;
  label?: string;
  variant?: ButtonVariant;
  size?: ButtonSize;
  onFailure?: () => void;
  className?: string;
}) {
  const [state, setState] = useState<CopyState>("idle");
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  async function copy() {
    const isCopied = await writeClipboard(text);
    setState(isCopied ? "copied" : "failed");
    if (!isCopied) onFailure?.();
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState("idle"), RESET_MS);
  }

  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <Button variant={variant} size={size} onClick={() => void copy()} className={className}>
        {label}
      </Button>
      <span aria-live="polite" className="text-xs text-slate-600" data-testid="copy-status">
        {state === "copied" ? "Copied" : state === "failed" ? "Could not copy: select it and copy it yourself." : ""}
      </span>
    </span>
  );
}
