"use client";

import { useEffect } from "react";

import { Alert, Button, ButtonLink } from "@/components/ui";

/** A route's error boundary: what happened in words, a retry, and a way out. */
export function RouteError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="mx-auto max-w-xl px-4 py-16">
      <Alert
        tone="error"
        title="This page could not be shown"
        actions={
          <>
            <Button onClick={reset}>Try again</Button>
            <ButtonLink href="/" variant="secondary">
              Go to the start page
            </ButtonLink>
          </>
        }
      >
        <p>Something went wrong while loading it. It may work if you try again.</p>
        {error.digest ? <p className="text-xs opacity-80">Reference: {error.digest}</p> : null}
      </Alert>
    </div>
  );
}
