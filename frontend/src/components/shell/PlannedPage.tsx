import { EmptyState, PageHeader } from "@/components/ui";

/** A page of the app whose screens are not built yet: what it will hold, and the API meanwhile. */
export function PlannedPage({ title, description, apiHint }: { title: string; description: string; apiHint: string }) {
  return (
    <>
      <PageHeader title={title} description={description} />
      <EmptyState title="This page is on its way">
        <p>
          Until it is here, the API does all of it: {apiHint} See the{" "}
          <a href="/api/v2/docs" className="font-medium text-indigo-700 underline">
            API reference
          </a>
          .
        </p>
      </EmptyState>
    </>
  );
}
