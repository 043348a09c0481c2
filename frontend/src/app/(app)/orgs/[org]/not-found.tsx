import { Alert, ButtonLink } from "@/components/ui";

export default function OrgNotFound() {
  return (
    <Alert tone="warning" title="Not found" actions={<ButtonLink href="/" variant="secondary">Go to your organizations</ButtonLink>}>
      This page does not exist in this organization, or it was removed.
    </Alert>
  );
}
