"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { Alert, Button, ButtonLink, Card, DateTime, Dialog, EmptyState, Field, Input, LoadingState, PageHeader, Select, Table, TBody, Td, Th, THead } from "@/components/ui";
import { SCHEMA_LIMITS } from "@/lib/api/limits";
import type { ScoringModel } from "@/lib/api/types";
import { describeError } from "@/lib/errors";
import { applyServerErrors, useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { can, orgOf, useMe } from "@/lib/queries/me";
import { useActiveVersion, useCreateModel, useModels, useTemplates } from "@/lib/queries/scoring";

import { CompactUsageMeter } from "../ai/UsageMeter";
import { CriteriaSummary } from "./CriteriaSummary";
import { VersionBadge } from "./VersionBadge";

function NewModelDialog({ org, open, onClose }: { org: string; open: boolean; onClose: () => void }) {
  const router = useRouter();
  const templates = useTemplates(org);
  const createModel = useCreateModel(org);
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<{ name: string; template: string }>({ defaultValues: { name: "", template: "rice_ai" } });

  async function onSubmit(values: { name: string; template: string }) {
    setFormError(null);
    const body = { name: values.name.trim(), template: values.template };
    try {
      const model = await createModel.mutateAsync({ ...body, idempotencyKey: keys.keyFor(body) });
      keys.reset();
      const first = model.versions[0];
      router.push(first ? paths.scoringVersion(org, model.id, first.number) : paths.scoring(org));
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["name", "template"]);
      setFormError({ summary, details: unplaced });
    }
  }

  return (
    <Dialog open={open} onClose={onClose} title="New scoring model" description="It starts as a draft copied from a template; nothing changes until you activate it.">
      <form noValidate onSubmit={handleSubmit(singleFlight(onSubmit))} className="space-y-4">
        {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
        <Field label="Name" error={errors.name?.message}>
          {(control) => (
            <Input
              {...control}
              maxLength={SCHEMA_LIMITS.ScoringModelIn.name.maxLength}
              {...register("name", { validate: (value) => value.trim() !== "" || "Enter a name." })}
            />
          )}
        </Field>
        <Field label="Start from" error={errors.template?.message}>
          {(control) => (
            <Select {...control} {...register("template")}>
              {(templates.data ?? []).map((template) => (
                <option key={template.key} value={template.key}>
                  {template.name}: {template.description}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" isLoading={createModel.isPending}>
            Create draft
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function ModelCard({ org, model }: { org: string; model: ScoringModel }) {
  const versions = [...model.versions].sort((a, b) => b.number - a.number);
  return (
    <section aria-labelledby={`model-${model.id}`} className="space-y-2">
      <h2 id={`model-${model.id}`} className="text-lg font-semibold text-slate-900">
        {model.name}
      </h2>
      {model.description ? <p className="text-sm text-slate-600">{model.description}</p> : null}
      <Table caption={`Versions of ${model.name}`} minWidth="32rem">
        <THead>
          <tr>
            <Th>Version</Th>
            <Th>State</Th>
            <Th>Notes</Th>
            <Th>Created</Th>
          </tr>
        </THead>
        <TBody>
          {versions.map((version) => (
            <tr key={version.id} data-testid="version-row" data-version={version.number}>
              <Td>
                <Link href={paths.scoringVersion(org, model.id, version.number)} className="font-medium text-indigo-700 underline hover:text-indigo-600">
                  Version {version.number}
                </Link>
              </Td>
              <Td>
                <VersionBadge version={version} />
              </Td>
              <Td className="max-w-xs truncate text-slate-600">{version.notes || "—"}</Td>
              <Td>
                <DateTime iso={version.created_at} />
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </section>
  );
}

/** The org's scoring models: the active version, every model's versions, and the way to a new draft. */
export function ScoringOverview({ org }: { org: string }) {
  const canManage = can(orgOf(useMe().data, org), "scoring.manage");
  const active = useActiveVersion(org);
  const models = useModels(org);
  const [isNewOpen, setIsNewOpen] = useState(false);
  const activeModel = models.data?.find((model) => model.id === active.data?.model_id);

  return (
    <>
      <PageHeader
        title="Scoring"
        description="A scoring model weighs task attributes and AI ratings into a score out of 100. Versions never change once saved; the active one scores new tasks."
        actions={
          <>
            <ButtonLink href={paths.scoringCompare(org)} variant="secondary">
              Compare versions
            </ButtonLink>
            {canManage ? <Button onClick={() => setIsNewOpen(true)}>New model</Button> : null}
          </>
        }
      />
      {canManage ? <NewModelDialog org={org} open={isNewOpen} onClose={() => setIsNewOpen(false)} /> : null}
      <div className="grid gap-8 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <div className="space-y-6">
          <Card>
            <h2 className="text-lg font-semibold text-slate-900">Active now</h2>
            {active.isPending ? (
              <LoadingState />
            ) : active.isError ? (
              <Alert tone="error">{describeError(active.error).message}</Alert>
            ) : (
              <>
                <p className="mt-1 text-sm text-slate-600" data-testid="active-version">
                  {activeModel?.name ?? "Model"} version {active.data.number}
                </p>
                <div className="mt-3">
                  <CriteriaSummary criteria={active.data.criteria} />
                </div>
                <div className="mt-4">
                  <ButtonLink href={paths.scoringVersion(org, active.data.model_id, active.data.number)} variant="secondary" size="sm">
                    {canManage ? "Open to edit a copy" : "Open"}
                  </ButtonLink>
                </div>
              </>
            )}
          </Card>
          <Card>
            <CompactUsageMeter org={org} />
          </Card>
        </div>
        <div className="space-y-8">
          {models.isPending ? (
            <LoadingState />
          ) : models.isError ? (
            <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void models.refetch()}>Try again</Button>}>
              {describeError(models.error).message}
            </Alert>
          ) : models.data.length === 0 ? (
            <EmptyState title="No scoring models yet">The default model appears when the first task is scored.</EmptyState>
          ) : (
            models.data.map((model) => <ModelCard key={model.id} org={org} model={model} />)
          )}
        </div>
      </div>
    </>
  );
}
