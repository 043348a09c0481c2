"use client";

import { useQuery } from "@tanstack/react-query";

import { Alert, Button, DateTime, EmptyState, LoadingState, PageHeader } from "@/components/ui";
import { linkify, outboxListSchema, type OutboxMessage } from "@/lib/outbox";

class OutboxOff extends Error {}

async function fetchOutbox(): Promise<OutboxMessage[]> {
  const response = await fetch("/api/dev/outbox", { headers: { Accept: "application/json" }, cache: "no-store" });
  if (response.status === 404) throw new OutboxOff();
  if (!response.ok) throw new Error(`The outbox answered ${response.status}.`);
  return outboxListSchema.parse(await response.json()).items;
}

function MessageBody({ body }: { body: string }) {
  return (
    <pre className="overflow-x-auto rounded-md bg-slate-50 p-3 text-sm whitespace-pre-wrap break-words text-slate-800">
      {linkify(body).map((part, index) =>
        part.kind === "text" ? (
          part.text
        ) : (
          <a key={index} href={part.href} className="font-medium text-indigo-700 underline hover:text-indigo-600" data-testid="outbox-link">
            {part.href}
          </a>
        ),
      )}
    </pre>
  );
}

/** Every mail the local backend would have sent, newest first, with its links clickable. */
export function Outbox() {
  const outbox = useQuery({ queryKey: ["outbox"], queryFn: fetchOutbox, refetchInterval: 3000, retry: false });
  let body;
  if (outbox.isPending) body = <LoadingState />;
  else if (outbox.isError && outbox.error instanceof OutboxOff) {
    body = (
      <Alert tone="info" title="The local outbox is off">
        This Taskscore sends real mail. The outbox exists only when it runs locally (<code>make run</code>).
      </Alert>
    );
  } else if (outbox.isError) {
    body = (
      <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void outbox.refetch()}>Try again</Button>}>
        The outbox could not be read. Is the backend running?
      </Alert>
    );
  } else if (outbox.data.length === 0) {
    body = <EmptyState title="No mail yet">Sign up, reset a password or invite someone, and the mail appears here.</EmptyState>;
  } else {
    body = (
      <ol className="space-y-3">
        {outbox.data.map((message) => (
          <li key={message.id} data-testid="outbox-message">
            <details className="rounded-xl border border-slate-200 bg-white shadow-xs [&[open]>summary]:border-b">
              <summary className="cursor-pointer list-none border-slate-200 px-4 py-3 focus-visible:outline-2 focus-visible:outline-indigo-600">
                <span className="block font-medium text-slate-900">{message.subject}</span>
                <span className="block text-xs text-slate-600">
                  To {message.to.join(", ")} · <DateTime iso={message.sent_at} />
                </span>
              </summary>
              <div className="p-4">
                <MessageBody body={message.body} />
              </div>
            </details>
          </li>
        ))}
      </ol>
    );
  }
  return (
    <main id="main" className="mx-auto max-w-3xl px-4 py-8">
      <PageHeader title="Local mail outbox" description="Mail is not sent while Taskscore runs locally: it is kept here. Open a message to follow its links." />
      {body}
    </main>
  );
}
