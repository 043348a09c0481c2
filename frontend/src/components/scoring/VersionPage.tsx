"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm, useWatch, type Path } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { Alert, Button, Card, ConfirmDialog, DateTime, Field, LoadingState, Textarea, useToast } from "@/components/ui";
import type { ScoringModel, ScoringVersion } from "@/lib/api/types";
import { CRITERIA_LIMITS, criteriaFieldOf, toCriteria, toDraft, type CriteriaFormValues } from "@/lib/criteria-form";
import { describeError } from "@/lib/errors";
import { applyServerErrors, useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { can, orgOf, useMe } from "@/lib/queries/me";
import { useActivateVersion, useCreateVersion, useModel, usePublishVersion } from "@/lib/queries/scoring";

import { CalibrationSection } from "./CalibrationSection";
import { CriteriaEditor } from "./CriteriaEditor";
import { CriteriaSummary } from "./CriteriaSummary";
import { PreviewPanel } from "./PreviewPanel";
import { VersionBadge } from "./VersionBadge";

function VersionActions({ org, model, version, isDirty }: { org: string; model: ScoringModel; version: ScoringVersion; isDirty: boolean }) {
  const toast = useToast();
  const publish = usePublishVersion(org, model.id, version.number);
  const activate = useActivateVersion(org, model.id, version.number);
  const [isActivateOpen, setIsActivateOpen] = useState(false);
  if (version.is_active) {
    return <p className="text-sm text-slate-600">This version scores every new task.</p>;
  }
  if (version.status === "draft") {
    return (
      <div className="flex flex-col items-start gap-1">
        <Button
          onClick={() => publish.mutate(undefined, { onSuccess: () => toast.show(`Version ${version.number} is published. Activate it to use it.`) })}
          isLoading={publish.isPending}
          disabled={isDirty}
          aria-describedby={isDirty ? "publish-reason" : undefined}
        >
          Publish version {version.number}
        </Button>
        {isDirty ? (
          <p id="publish-reason" className="text-xs text-slate-600">
            Save your changes as a new draft first: a version is published as it was saved.
          </p>
        ) : null}
        {publish.isError ? <Alert tone="error">{describeError(publish.error).message}</Alert> : null}
      </div>
    );
  }
  return (
    <>
      <Button onClick={() => setIsActivateOpen(true)}>Activate version {version.number}</Button>
      <ConfirmDialog
        open={isActivateOpen}
        title={`Activate ${model.name} version ${version.number}?`}
        description="New tasks are scored with it from now on. Existing scores stay as they are until you re-score."
        confirmLabel="Activate"
        isLoading={activate.isPending}
        error={activate.isError ? <p className="text-sm text-rose-700">{describeError(activate.error).message}</p> : null}
        onClose={() => {
          setIsActivateOpen(false);
          activate.reset();
        }}
        onConfirm={() =>
          activate.mutate(undefined, {
            onSuccess: () => {
              setIsActivateOpen(false);
              toast.show(`${model.name} version ${version.number} is active. Re-score tasks to use it on them.`);
            },
          })
        }
      />
    </>
  );
}

function Editor({ org, model, version, canManage }: { org: string; model: ScoringModel; version: ScoringVersion; canManage: boolean }) {
  const router = useRouter();
  const toast = useToast();
  const createVersion = useCreateVersion(org, model.id);
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const [isEditing, setIsEditing] = useState(canManage && version.status === "draft");
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const form = useForm<CriteriaFormValues>({
    defaultValues: { criteria: version.criteria.map(toDraft), notes: "" },
  });
  const { control, register, handleSubmit, setError, trigger, getValues, formState } = form;
  const watched = useWatch({ control, name: "criteria" });

  async function validCriteria() {
    const ok = await trigger("criteria");
    return ok ? toCriteria(getValues("criteria")) : null;
  }

  async function onSave(values: CriteriaFormValues) {
    setFormError(null);
    const body = { criteria: toCriteria(values.criteria), notes: values.notes.trim() };
    try {
      const created = await createVersion.mutateAsync({ ...body, idempotencyKey: keys.keyFor(body) });
      keys.reset();
      toast.show(`Saved as draft version ${created.number}.`);
      router.push(paths.scoringVersion(org, model.id, created.number));
    } catch (error) {
      const fields = values.criteria.flatMap((criterion, index) =>
        Object.keys(criterion).map((name) => `criteria.${index}.${name}` as Path<CriteriaFormValues>),
      );
      const { summary, unplaced } = applyServerErrors(error, setError, [...fields, "notes"], criteriaFieldOf);
      setFormError({ summary, details: unplaced });
    }
  }

  const currentCriteria = (() => {
    try {
      return toCriteria(watched);
    } catch {
      return version.criteria;
    }
  })();

  return (
    <div className="grid gap-6 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
      <Card>
        <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-lg font-semibold text-slate-900">Criteria</h2>
          {canManage && !isEditing ? (
            <Button variant="secondary" size="sm" onClick={() => setIsEditing(true)}>
              Edit a copy
            </Button>
          ) : null}
        </div>
        {isEditing ? (
          <form noValidate onSubmit={handleSubmit(singleFlight(onSave))} className="space-y-5" aria-label="Edit criteria">
            {version.status !== "draft" ? (
              <Alert tone="info">
                Version {version.number} is {version.is_active ? "active" : "published"} and never changes: saving makes a new
                draft.
              </Alert>
            ) : null}
            {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
            <CriteriaEditor control={control} register={register} errors={formState.errors} />
            <Field label="Notes" hint="What changed and why (shown in the version list)" error={formState.errors.notes?.message}>
              {(props) => <Textarea {...props} rows={2} maxLength={CRITERIA_LIMITS.notesMax} {...register("notes")} />}
            </Field>
            <Button type="submit" isLoading={createVersion.isPending}>
              Save as a new draft
            </Button>
          </form>
        ) : (
          <CriteriaSummary criteria={version.criteria} />
        )}
      </Card>
      <div className="space-y-6">
        {canManage ? (
          <Card>
            <h2 className="mb-3 text-lg font-semibold text-slate-900">Use this version</h2>
            <VersionActions org={org} model={model} version={version} isDirty={isEditing && formState.isDirty} />
          </Card>
        ) : null}
        {canManage ? <PreviewPanel org={org} criteria={currentCriteria} getCriteria={isEditing ? validCriteria : async () => version.criteria} /> : null}
      </div>
    </div>
  );
}

/** One version of a scoring model: its criteria (edited as a new draft), publish, activate and preview. */
export function VersionPage({ org, modelId, number }: { org: string; modelId: number; number: number }) {
  const membership = orgOf(useMe().data, org);
  const canManage = can(membership, "scoring.manage");
  const canReview = can(membership, "score.review");
  const modelQuery = useModel(org, modelId);
  if (modelQuery.isPending) return <LoadingState />;
  if (modelQuery.isError) {
    const description = describeError(modelQuery.error);
    return (
      <Alert tone={description.isRetryable ? "error" : "warning"} title={description.isRetryable ? "The model could not be loaded" : "No such scoring model"}>
        {description.message}
      </Alert>
    );
  }
  const model = modelQuery.data;
  const version = model.versions.find((candidate) => candidate.number === number);
  const versions = [...model.versions].sort((a, b) => a.number - b.number);
  return (
    <div className="space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm">
        <Link href={paths.scoring(org)} className="text-indigo-700 underline hover:text-indigo-600">
          Scoring
        </Link>
        <span aria-hidden="true" className="text-slate-400">
          {" "}
          /{" "}
        </span>
        <span className="text-slate-600">{model.name}</span>
      </nav>
      {version === undefined ? (
        <Alert tone="warning" title="No such version">
          {model.name} has versions {versions.map((v) => v.number).join(", ")}.
        </Alert>
      ) : (
        <>
          <div className="flex flex-wrap items-end justify-between gap-4">
            <div>
              <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold tracking-tight text-slate-900">
                {model.name} version {version.number} <VersionBadge version={version} />
              </h1>
              <p className="mt-1 text-sm text-slate-600">
                Created <DateTime iso={version.created_at} />
                {version.notes ? ` · ${version.notes}` : ""}
              </p>
            </div>
            <nav aria-label="Versions" className="flex flex-wrap gap-1">
              {versions.map((candidate) => (
                <Link
                  key={candidate.id}
                  href={paths.scoringVersion(org, model.id, candidate.number)}
                  aria-current={candidate.number === version.number ? "page" : undefined}
                  className="rounded-md px-2.5 py-1 text-sm text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-800"
                >
                  v{candidate.number}
                </Link>
              ))}
            </nav>
          </div>
          <Editor key={version.id} org={org} model={model} version={version} canManage={canManage} />
          {version.criteria.some((criterion) => criterion.kind === "ai") ? (
            <CalibrationSection org={org} modelId={model.id} number={version.number} canReview={canReview} />
          ) : null}
        </>
      )}
    </div>
  );
}
