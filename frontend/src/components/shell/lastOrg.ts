/** The org a person last worked in, remembered so that `/` brings them back to it. */
export const LAST_ORG_COOKIE = "ts_last_org";

export function rememberOrg(slug: string): void {
  document.cookie = `${LAST_ORG_COOKIE}=${encodeURIComponent(slug)}; path=/; max-age=31536000; samesite=lax`;
}
