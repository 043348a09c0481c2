import { Badge, DateTime, EmptyState, Table, TBody, Td, Th, THead } from "@/components/ui";
import { formatMoney, invoiceStatusWords, type Invoice } from "@/lib/billing";

/** The org's newest invoices (stored from Stripe's events), each linking to Stripe's page of it. */
export function InvoiceTable({ invoices }: { invoices: readonly Invoice[] }) {
  if (invoices.length === 0) {
    return (
      <EmptyState title="No invoices yet">
        Invoices appear here once Stripe issues one: at the start of a paid plan, or when a trial ends.
      </EmptyState>
    );
  }
  return (
    <Table caption="Invoices, newest first (each number opens Stripe's page of it)" minWidth="24rem">
      <THead>
        <tr>
          <Th>Date</Th>
          <Th>Invoice</Th>
          <Th numeric>Amount</Th>
          <Th>Status</Th>
        </tr>
      </THead>
      <TBody>
        {invoices.map((invoice) => {
          const status = invoiceStatusWords(invoice.status);
          const amount = invoice.status === "paid" ? invoice.amount_paid : invoice.amount_due;
          return (
            <tr key={invoice.id} data-testid="invoice-row" data-status={invoice.status}>
              <Td>
                <DateTime iso={invoice.created} />
              </Td>
              <Td className="font-mono text-xs">
                {invoice.hosted_invoice_url ? (
                  <a
                    href={invoice.hosted_invoice_url}
                    target="_blank"
                    rel="noopener noreferrer"
                    aria-label={`Invoice ${invoice.number || invoice.id} (opens Stripe's page in a new tab)`}
                    className="font-medium break-all text-indigo-700 underline hover:text-indigo-600"
                  >
                    {invoice.number || invoice.id}
                  </a>
                ) : (
                  <span className="break-all">{invoice.number || invoice.id}</span>
                )}
              </Td>
              <Td numeric>{formatMoney(amount, invoice.currency)}</Td>
              <Td>
                <Badge tone={status.tone}>{status.label}</Badge>
              </Td>
            </tr>
          );
        })}
      </TBody>
    </Table>
  );
}
