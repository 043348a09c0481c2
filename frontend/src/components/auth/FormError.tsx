import type { ReactNode } from "react";

import { Alert } from "@/components/ui";

/** The message at the top of a form: what went wrong that no single field explains (and, for a 402, the way out). */
export function FormError({ summary, details = [], actions }: { summary: string | null; details?: readonly string[]; actions?: ReactNode }) {
  if (!summary && details.length === 0) return null;
  return (
    <Alert tone="error" actions={actions}>
      {summary ? <p>{summary}</p> : null}
      {details.length > 0 ? (
        <ul className="list-disc pl-5">
          {details.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
    </Alert>
  );
}
