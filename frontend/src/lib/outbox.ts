/**
 * The local mail outbox (`make run` keeps every mail the backend sends there, instead of sending
 * it). Served by Django at /api/dev/outbox outside the versioned API, so validated with zod here.
 */
import * as z from "zod/mini";

export const outboxMessageSchema = z.object({
  id: z.string(),
  sent_at: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  body: z.string(),
  links: z.array(z.string()),
});

export const outboxListSchema = z.object({ items: z.array(outboxMessageSchema) });

export type OutboxMessage = z.infer<typeof outboxMessageSchema>;

/** Splits a mail body into text and links, so that links can be rendered clickable. */
export function linkify(body: string): ({ kind: "text"; text: string } | { kind: "link"; href: string })[] {
  const parts: ({ kind: "text"; text: string } | { kind: "link"; href: string })[] = [];
  const pattern = /https?:\/\/[^\s<>"']+/g;
  let last = 0;
  for (const match of body.matchAll(pattern)) {
    const start = match.index;
    if (start > last) parts.push({ kind: "text", text: body.slice(last, start) });
    const href = match[0].replace(/[.,;:!?)]+$/, "");
    parts.push({ kind: "link", href });
    last = start + href.length;
  }
  if (last < body.length) parts.push({ kind: "text", text: body.slice(last) });
  return parts;
}
