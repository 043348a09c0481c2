"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { Button, Field, Input, useToast } from "@/components/ui";
import { SCHEMA_LIMITS } from "@/lib/api/limits";
import { applyServerErrors, useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { useCreateOrg } from "@/lib/queries/invitations";

const NAME = SCHEMA_LIMITS.OrgIn.name;

export function CreateOrgForm({ disabled = false }: { disabled?: boolean }) {
  const router = useRouter();
  const toast = useToast();
  const createOrg = useCreateOrg();
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<{ name: string }>({ defaultValues: { name: "" } });

  async function onSubmit({ name }: { name: string }) {
    setFormError(null);
    const body = { name: name.trim() };
    try {
      const org = await createOrg.mutateAsync({ ...body, idempotencyKey: keys.keyFor(body) });
      keys.reset();
      toast.show(`${org.name} is ready.`);
      router.push(paths.tasks(org.slug));
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, ["name"]);
      setFormError({ summary, details: unplaced });
    }
  }

  return (
    <form noValidate onSubmit={handleSubmit(singleFlight(onSubmit))} className="space-y-4">
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label="Organization name" hint="Your team or company. You can invite people next." error={errors.name?.message}>
        {(control) => (
          <Input
            {...control}
            autoComplete="organization"
            disabled={disabled}
            maxLength={NAME.maxLength}
            {...register("name", {
              validate: (value) => value.trim() !== "" || "Enter a name.",
              maxLength: { value: NAME.maxLength, message: `Keep it to ${NAME.maxLength} characters.` },
            })}
          />
        )}
      </Field>
      <Button type="submit" isLoading={createOrg.isPending} disabled={disabled}>
        Create organization
      </Button>
    </form>
  );
}
