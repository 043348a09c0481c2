import { Alert } from "@/components/ui";

/** The message at the top of a form: what went wrong that no single field explains. */
export function FormError({ summary, details = [] }: { summary: string | null; details?: readonly string[] }) {
  if (!summary && details.length === 0) return null;
  return (
    <Alert tone="error">
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
