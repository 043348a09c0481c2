import { useSyncExternalStore } from "react";

/**
 * The address a sign-up (or a log-in) in this tab is waiting to have verified. allauth does not
 * say it back while nobody is logged in, so the form that sent it keeps it here for the "check
 * your inbox" page. This tab only (sessionStorage), never in a URL.
 */
const STORAGE_KEY = "taskscore.verification-email";

export function rememberVerificationEmail(email: string): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, email);
  } catch {
    // Storage refused (private mode, quota): the page then says "your email address".
  }
}

function readVerificationEmail(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function subscribe(): () => void {
  return () => undefined;
}

/** The remembered address, or null (on the server, and before anything was remembered). */
export function useVerificationEmail(): string | null {
  return useSyncExternalStore(subscribe, readVerificationEmail, () => null);
}
