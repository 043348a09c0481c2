import type { Metadata } from "next";

import { Outbox } from "@/components/outbox/Outbox";

export const metadata: Metadata = { title: "Mail outbox", robots: { index: false } };

export default function OutboxPage() {
  return <Outbox />;
}
