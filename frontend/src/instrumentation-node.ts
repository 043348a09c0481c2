import { getServerEnv } from "./lib/env";

/**
 * Validates the environment when the server starts, so that a bad DJANGO_ORIGIN stops
 * `next start` with a readable message instead of answering every request with a 500.
 */
export function checkEnvironmentOrExit(): void {
  try {
    const env = getServerEnv();
    console.info(`Taskscore web: proxying /api and /_allauth to ${env.DJANGO_ORIGIN}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
