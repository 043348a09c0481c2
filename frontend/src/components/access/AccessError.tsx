"use client";

import type { ReactNode } from "react";

import { Alert, Button, ButtonLink } from "@/components/ui";
import { ApiProblem } from "@/lib/api/problem";
import { billingActionOf, describeError, PERMISSION_WORDS } from "@/lib/errors";
import { paths } from "@/lib/paths";

/** Whether a refusal is a missing permission (after which the page reloads the person's permissions). */
export function isPermissionDenied(error: unknown): boolean {
  return error instanceof ApiProblem && error.status === 403 && error.code === "permission-denied";
}

/** Whether a refusal is the last-owner rule (a 409 when demoting or removing the only owner). */
export function isConflict(error: unknown): boolean {
  return error instanceof ApiProblem && error.status === 409;
}

/**
 * A refusal on the team pages in words, with what the person can do: upgrade on the billing page
 * after a 402, know that the page now shows what their (changed) role allows after a 403, retry
 * after a failure on our side.
 */
export function AccessError({
  org,
  error,
  title,
  onRetry,
  className,
}: {
  org: string;
  error: unknown;
  /** What failed ("The members could not be loaded"); the problem's own title otherwise. */
  title?: ReactNode;
  onRetry?: () => void;
  className?: string;
}) {
  const description = describeError(error);
  const billing = billingActionOf(error);
  if (billing) {
    return (
      <Alert
        tone="warning"
        title={description.title}
        className={className}
        actions={
          <ButtonLink href={paths.billing(org)} size="sm" data-testid="upgrade-link">
            {billing.label}
          </ButtonLink>
        }
      >
        {description.message}
      </Alert>
    );
  }
  if (isPermissionDenied(error)) {
    const permission = error instanceof ApiProblem ? error.permission : undefined;
    const action = permission ? PERMISSION_WORDS[permission] : undefined;
    return (
      <Alert tone="error" title={title ?? "Not allowed"} className={className}>
        <p>{action ? `Your role does not let you ${action}.` : description.message}</p>
        <p>Your role may have just changed: this page now shows what it allows. Ask an owner or admin if you need more.</p>
      </Alert>
    );
  }
  return (
    <Alert
      tone="error"
      title={title ?? description.title}
      className={className}
      actions={
        onRetry && description.isRetryable ? (
          <Button variant="secondary" size="sm" onClick={onRetry}>
            Try again
          </Button>
        ) : undefined
      }
    >
      {description.message}
    </Alert>
  );
}

/** What a page shows to a person whose role does not let them see it (nothing is fetched). */
export function NotAllowed({ permission, children }: { permission: string; children?: ReactNode }) {
  const action = PERMISSION_WORDS[permission] ?? permission;
  return (
    <Alert tone="info" title="Not available to your role">
      <p>Your role does not let you {action}. Ask an owner or admin of this organization if you need to.</p>
      {children}
    </Alert>
  );
}
