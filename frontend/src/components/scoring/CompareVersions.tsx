"use client";

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";

import { Alert, Card, EmptyState, Field, LoadingState, PageHeader, Select, Table, TBody, Td, Th, THead } from "@/components/ui";
import { describeError } from "@/lib/errors";
import { formatDelta, formatScore } from "@/lib/format";
import { paths } from "@/lib/paths";
import { useComparison, useModels } from "@/lib/queries/scoring";

function idParam(value: string | null): number | null {
  const id = Number(value);
  return value !== null && Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** Two versions side by side on the tasks scored by both: old and new score and rank of each. */
export function CompareVersions({ org }: { org: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const from = idParam(searchParams.get("from"));
  const to = idParam(searchParams.get("to"));
  const models = useModels(org);
  const comparison = useComparison(org, from, to);

  const options = (models.data ?? []).flatMap((model) =>
    [...model.versions]
      .sort((a, b) => a.number - b.number)
      .map((version) => ({ id: version.id, label: `${model.name} v${version.number}${version.is_active ? " (active)" : ""}` })),
  );

  function choose(which: "from" | "to", value: string) {
    const params = new URLSearchParams(searchParams.toString());
    if (value) params.set(which, value);
    else params.delete(which);
    router.replace(`${pathname}?${params.toString()}`, { scroll: false });
  }

  let body;
  if (from === null || to === null) {
    body = <EmptyState title="Choose two versions">See how the tasks scored by both would move.</EmptyState>;
  } else if (from === to) {
    body = <EmptyState title="Choose two different versions">A version compared with itself changes nothing.</EmptyState>;
  } else if (comparison.isPending) {
    body = <LoadingState />;
  } else if (comparison.isError) {
    body = <Alert tone="error">{describeError(comparison.error).message}</Alert>;
  } else if (comparison.data.items.length === 0) {
    body = (
      <EmptyState title="No task was scored by both">
        Re-score tasks after activating the newer version, or preview a draft on the latest tasks from its version page.
      </EmptyState>
    );
  } else {
    const data = comparison.data;
    body = (
      <div className="space-y-3">
        <p className="text-sm text-slate-700" data-testid="comparison-summary">
          {data.tasks} tasks scored by both · mean change {formatDelta(data.mean_delta)} · {data.rank_changes} changed rank
        </p>
        <Table caption="Each task's score and rank under both versions" minWidth="36rem">
          <THead>
            <tr>
              <Th>Task</Th>
              <Th numeric>Before</Th>
              <Th numeric>After</Th>
              <Th numeric>Change</Th>
              <Th numeric>Rank</Th>
            </tr>
          </THead>
          <TBody>
            {data.items.map((item) => (
              <tr key={item.task_id}>
                <Td className="max-w-xs truncate">
                  <Link href={paths.task(org, item.task_id)} className="text-indigo-700 underline hover:text-indigo-600">
                    {item.title}
                  </Link>
                </Td>
                <Td numeric>{formatScore(item.from_value)}</Td>
                <Td numeric className="font-semibold text-slate-900">
                  {formatScore(item.to_value)}
                </Td>
                <Td numeric>{formatDelta(item.delta)}</Td>
                <Td numeric>
                  {item.from_rank} → {item.to_rank}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      </div>
    );
  }

  return (
    <>
      <PageHeader title="Compare scoring versions" description="Old and new scores of the tasks that both versions scored." />
      <Card className="mb-6">
        {models.isError ? <Alert tone="error">{describeError(models.error).message}</Alert> : null}
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Before">
            {(props) => (
              <Select {...props} value={from ?? ""} onChange={(event) => choose("from", event.target.value)}>
                <option value="">Choose a version</option>
                {options.map((option) => (
                  <option key={option.id} value={option.id}>
                    {option.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="After">
            {(props) => (
              <Select {...props} value={to ?? ""} onChange={(event) => choose("to", event.target.value)}>
                <option value="">Choose a version</option>
                {options.map((option) => (
                  <option key={option.id} value={option.id}>
                    {option.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </div>
      </Card>
      {body}
    </>
  );
}
