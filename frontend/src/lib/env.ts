import { z } from "zod";

const DEFAULT_DJANGO_ORIGIN = "http://127.0.0.1:8000";

const serverEnvSchema = z.object({
  DJANGO_ORIGIN: z
    .url({ protocol: /^https?$/, error: "DJANGO_ORIGIN must be an http(s) URL" })
    .default(DEFAULT_DJANGO_ORIGIN)
    .transform((value, context) => {
      const url = new URL(value);
      if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
        context.addIssue({
          code: "custom",
          message: "DJANGO_ORIGIN must be an origin (scheme://host:port) without a path",
        });
        return z.NEVER;
      }
      return url.origin;
    }),
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

/** Parses and validates the server-side environment; throws a readable error on a bad value. */
export function parseServerEnv(source: Record<string, string | undefined>): ServerEnv {
  const candidate = {
    // An empty variable means "unset", as in a shell `DJANGO_ORIGIN= next start`.
    DJANGO_ORIGIN: source.DJANGO_ORIGIN === "" ? undefined : source.DJANGO_ORIGIN,
  };
  const result = serverEnvSchema.safeParse(candidate);
  if (!result.success) {
    throw new Error(`Invalid environment:\n${z.prettifyError(result.error)}`);
  }
  return result.data;
}

let cachedServerEnv: ServerEnv | undefined;

/** The validated server environment, read from `process.env` once per server process. */
export function getServerEnv(): ServerEnv {
  cachedServerEnv ??= parseServerEnv(process.env);
  return cachedServerEnv;
}
