import { Badge, type BadgeTone } from "@/components/ui";
import type { ScoringVersion } from "@/lib/api/types";

type VersionState = "draft" | "published" | "active";

const VERSION_STATES: Record<VersionState, { label: string; tone: BadgeTone }> = {
  draft: { label: "Draft", tone: "neutral" },
  published: { label: "Published", tone: "info" },
  active: { label: "Active", tone: "success" },
};

export function versionState(version: Pick<ScoringVersion, "status" | "is_active">): VersionState {
  return version.is_active ? "active" : version.status;
}

export function VersionBadge({ version }: { version: Pick<ScoringVersion, "status" | "is_active"> }) {
  const state = VERSION_STATES[versionState(version)];
  return (
    <span data-testid="version-state" data-state={versionState(version)}>
      <Badge tone={state.tone}>{state.label}</Badge>
    </span>
  );
}
