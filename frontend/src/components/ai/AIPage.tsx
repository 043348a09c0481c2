"use client";

import { Alert, Button, Card, LoadingState, PageHeader, Switch, useToast } from "@/components/ui";
import type { AIRules, AISettings } from "@/lib/api/types";
import { redactionWords } from "@/lib/ai";
import { describeError, PERMISSION_WORDS } from "@/lib/errors";
import { useAISettings, useUpdateAIRules } from "@/lib/queries/ai";
import { can, orgOf, useMe } from "@/lib/queries/me";

import { UsageMeterView } from "./UsageMeter";

type RuleName = keyof AIRules;

const RULES: Record<RuleName, { label: string; description: string; on: string; off: string }> = {
  enabled: {
    label: "Rate AI criteria",
    description:
      "The AI rates each task on the active version's AI criteria. Off: AI criteria are left out of new scores (“Skipped: AI turned off”); attribute criteria still count.",
    on: "AI criteria are rated again in new scores.",
    off: "AI is off: new scores leave the AI criteria out.",
  },
  send_title: {
    label: "Send the title",
    description: "The AI reads each task's title.",
    on: "The AI reads task titles from now on.",
    off: "Task titles are no longer sent to the AI.",
  },
  send_description: {
    label: "Send the description",
    description: "The AI reads each task's description.",
    on: "The AI reads task descriptions from now on.",
    off: "Task descriptions are no longer sent to the AI.",
  },
};
const RULE_NAMES = Object.keys(RULES) as RuleName[];

function Rules({ org, rules, canManage }: { org: string; rules: AIRules; canManage: boolean }) {
  const toast = useToast();
  const update = useUpdateAIRules(org);
  const pending = update.isPending ? (Object.keys(update.variables ?? {})[0] as RuleName | undefined) : undefined;
  const sendsNothing = rules.enabled && !rules.send_title && !rules.send_description;
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">What the AI may read</h2>
      <p className="mt-1 mb-4 text-sm text-slate-600">
        These rules apply to every score computed from now on; existing scores keep what they were made with.
      </p>
      {!canManage ? (
        <Alert tone="info" className="mb-4">
          You can see these rules. Changing them needs the permission to {PERMISSION_WORDS["scoring.manage"]}: ask an owner or admin
          of this organization.
        </Alert>
      ) : null}
      <div className="divide-y divide-slate-100">
        {RULE_NAMES.map((name) => (
          <Switch
            key={name}
            className="py-3 first:pt-0"
            label={RULES[name].label}
            description={RULES[name].description}
            checked={rules[name]}
            disabled={!canManage || (update.isPending && pending !== name)}
            isLoading={pending === name}
            onChange={(checked) =>
              update.mutate({ [name]: checked }, { onSuccess: () => toast.show(checked ? RULES[name].on : RULES[name].off) })
            }
          />
        ))}
      </div>
      {sendsNothing ? (
        <Alert tone="warning" className="mt-4" title="The AI is sent nothing">
          With neither field sent, AI criteria are left out of new scores (“Skipped: no fields sent to the AI”).
        </Alert>
      ) : null}
      {update.isError ? (
        <Alert tone="error" className="mt-4" title="The rule was not changed">
          {describeError(update.error).message}
        </Alert>
      ) : null}
    </Card>
  );
}

function Redaction({ kinds }: { kinds: readonly string[] }) {
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Always removed first</h2>
      <p className="mt-1 mb-3 text-sm text-slate-600">
        Before the AI reads a task, these are replaced with a placeholder such as <code className="rounded bg-slate-100 px-1">[email]</code>.
        This is always on; the values are never stored nor shown.
      </p>
      <ul className="list-disc space-y-1 pl-5 text-sm text-slate-800" data-testid="ai-redaction">
        {kinds.map((kind) => (
          <li key={kind}>{redactionWords(kind)}</li>
        ))}
      </ul>
    </Card>
  );
}

function Screen({ org, settings, canManage }: { org: string; settings: AISettings; canManage: boolean }) {
  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
      <div className="space-y-6">
        <Card>
          <h2 className="mb-3 text-lg font-semibold text-slate-900">AI calls this month</h2>
          <UsageMeterView usage={settings.usage} />
        </Card>
        <Rules org={org} rules={settings.rules} canManage={canManage} />
      </div>
      <Redaction kinds={settings.redaction} />
    </div>
  );
}

/** The org's AI: how many calls this month has left, what the AI may read, and what is always redacted. */
export function AIPage({ org }: { org: string }) {
  const canManage = can(orgOf(useMe().data, org), "scoring.manage");
  const settings = useAISettings(org);
  return (
    <>
      <PageHeader
        title="AI"
        description="How many AI calls this month has left, what the AI may read of a task, and what is always removed before it does."
      />
      {settings.isPending ? (
        <LoadingState label="Loading the AI settings…" />
      ) : settings.isError ? (
        <Alert
          tone="error"
          title="The AI settings could not be loaded"
          actions={<Button variant="secondary" size="sm" onClick={() => void settings.refetch()}>Try again</Button>}
        >
          {describeError(settings.error).message}
        </Alert>
      ) : (
        <Screen org={org} settings={settings.data} canManage={canManage} />
      )}
    </>
  );
}
