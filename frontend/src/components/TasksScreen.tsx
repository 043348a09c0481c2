"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { useApiClient } from "@/lib/api/context";
import { ApiProblem } from "@/lib/api/problem";
import type { Org } from "@/lib/api/types";
import { useMe } from "@/lib/queries";

import { Logo } from "./Logo";
import { TaskForm } from "./TaskForm";
import { TaskList } from "./TaskList";

function OrgSwitcher({ orgs, value, onChange }: { orgs: readonly Org[]; value: string; onChange: (slug: string) => void }) {
  if (orgs.length < 2) {
    const only = orgs[0];
    return only ? <span className="text-sm font-medium text-slate-700">{only.name}</span> : null;
  }
  return (
    <label className="flex items-center gap-2 text-sm text-slate-600">
      <span>Organization</span>
      <select
        value={value}
        onChange={(event) => onChange(event.target.value)}
        className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 focus:outline-2 focus:outline-indigo-500"
      >
        {orgs.map((org) => (
          <option key={org.slug} value={org.slug}>
            {org.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function TasksScreen() {
  const router = useRouter();
  const client = useApiClient();
  const queryClient = useQueryClient();
  const meQuery = useMe();
  const [chosenOrg, setChosenOrg] = useState<string | null>(null);
  const [isLoggingOut, setIsLoggingOut] = useState(false);
  const [logoutError, setLogoutError] = useState<string | null>(null);

  const isLoggedOut = meQuery.error instanceof ApiProblem && meQuery.error.isUnauthenticated;
  useEffect(() => {
    if (isLoggedOut) router.replace("/login");
  }, [isLoggedOut, router]);

  const orgs = meQuery.data?.orgs ?? [];
  const org = orgs.find((candidate) => candidate.slug === chosenOrg) ?? orgs[0];

  async function handleLogout() {
    setIsLoggingOut(true);
    setLogoutError(null);
    try {
      await client.logout();
      queryClient.clear();
      router.replace("/login");
    } catch {
      setLogoutError("Logging out failed. Please try again.");
      setIsLoggingOut(false);
    }
  }

  if (meQuery.isPending || isLoggedOut) {
    return (
      <main className="mx-auto max-w-5xl px-4 py-16 text-center text-sm text-slate-500" aria-busy="true">
        Loading…
      </main>
    );
  }

  if (meQuery.isError) {
    return (
      <main className="mx-auto max-w-5xl px-4 py-16">
        <p role="alert" className="rounded-md bg-rose-50 px-4 py-3 text-sm text-rose-800">
          Your account could not be loaded. Please reload the page.
        </p>
      </main>
    );
  }

  const me = meQuery.data;

  return (
    <>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-3">
          <Logo />
          <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
            <OrgSwitcher orgs={orgs} value={org?.slug ?? ""} onChange={setChosenOrg} />
            <span data-testid="user-email" className="text-sm text-slate-600">
              {me.email}
            </span>
            <button
              type="button"
              onClick={() => void handleLogout()}
              disabled={isLoggingOut}
              className="rounded-md border border-slate-300 px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-60"
            >
              Log out
            </button>
          </div>
        </div>
        {logoutError ? (
          <p role="alert" className="mx-auto max-w-5xl px-4 pb-3 text-sm text-rose-700">
            {logoutError}
          </p>
        ) : null}
      </header>

      <main className="mx-auto max-w-5xl px-4 py-8">
        <h1 className="sr-only">Tasks{org ? ` of ${org.name}` : ""}</h1>
        {org ? (
          <div className="grid gap-8 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
            <div className="lg:sticky lg:top-6 lg:self-start">
              <TaskForm key={org.slug} org={org.slug} />
            </div>
            <TaskList key={org.slug} org={org.slug} />
          </div>
        ) : (
          <p className="rounded-xl border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600">
            You are not a member of any organization yet. Ask an owner to invite you.
          </p>
        )}
      </main>
    </>
  );
}
