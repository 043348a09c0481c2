export const CSRF_COOKIE_NAME = "csrftoken";
export const CSRF_HEADER_NAME = "X-CSRFToken";

/** Reads one cookie from a `document.cookie`-style string. */
export function readCookieFrom(cookieString: string, name: string): string | undefined {
  for (const part of cookieString.split(";")) {
    const separator = part.indexOf("=");
    if (separator === -1) continue;
    if (part.slice(0, separator).trim() === name) {
      return decodeURIComponent(part.slice(separator + 1).trim());
    }
  }
  return undefined;
}

export function readDocumentCookie(name: string): string | undefined {
  if (typeof document === "undefined") return undefined;
  return readCookieFrom(document.cookie, name);
}
