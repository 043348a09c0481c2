"use client";

import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";

import { Logo } from "@/components/Logo";
import { Alert, Button, ButtonLink, cn, IntentLink, LoadingState } from "@/components/ui";
import type { Org } from "@/lib/api/types";
import { describeError, PERMISSION_WORDS } from "@/lib/errors";
import { queryKeys, type PermissionDenial } from "@/lib/queries/keys";
import { paths } from "@/lib/paths";
import { can, orgOf, useMe } from "@/lib/queries/me";

import { rememberOrg } from "./lastOrg";
import { LogoutButton } from "./LogoutButton";
import { isCurrent, ORG_NAV } from "./nav";
import { OrgSwitcher } from "./OrgSwitcher";
import { TwoFactorRequired } from "./TwoFactorRequired";

// The shell's links are on every page: each prefetches its page on intent (IntentLink), not on view.
function NavLink({ href, current, children }: { href: string; current: boolean; children: ReactNode }) {
  return (
    <IntentLink
      href={href}
      aria-current={current ? "page" : undefined}
      className={cn(
        "rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap",
        "focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-indigo-600",
        current ? "bg-indigo-50 text-indigo-800" : "text-slate-700 hover:bg-slate-100 hover:text-slate-900",
      )}
    >
      {children}
    </IntentLink>
  );
}

/** What a membership allows, to notice when it changes while a page is open. */
function grantOf(membership: Org | undefined): string | null {
  return membership ? `${membership.slug}\n${membership.role}\n${membership.permissions.join(",")}` : null;
}

/**
 * Says so when the person's role in the org changes while they are on a page (someone changed it,
 * or changed the custom role they hold): the controls it no longer allows have just disappeared.
 */
function useRoleChangeNotice(membership: Org | undefined, loadedAt: number) {
  const queryClient = useQueryClient();
  const grant = grantOf(membership);
  const [known, setKnown] = useState(grant);
  const [notice, setNotice] = useState<RoleChange | null>(null);
  if (grant !== known) {
    // Adjusting state while rendering (React's documented pattern): the grant changed.
    const isSameOrg = known !== null && membership !== undefined && known.split("\n")[0] === membership.slug;
    const denial = queryClient.getQueryData<PermissionDenial>(queryKeys.lastDenial);
    setNotice(
      isSameOrg
        ? {
            orgName: membership.name,
            role: membership.role,
            // The refusal that made the page look again: one just before these permissions loaded.
            refused: denial && denial.at <= loadedAt && loadedAt - denial.at < RECENT_DENIAL_MS ? (denial.permission ?? "") : null,
          }
        : null,
    );
    setKnown(grant);
  }
  return { notice, dismiss: () => setNotice(null) };
}

const RECENT_DENIAL_MS = 60_000;

interface RoleChange {
  orgName: string;
  role: string;
  /** The permission a request was just refused for ("" when not named); null without a refusal. */
  refused: string | null;
}

function RoleChangeWords({ change }: { change: RoleChange }) {
  const role = `${change.role.charAt(0).toUpperCase()}${change.role.slice(1)}`;
  const action = change.refused ? PERMISSION_WORDS[change.refused] : undefined;
  return (
    <span data-testid="role-change-notice">
      {change.refused !== null
        ? `What you just tried was refused: ${action ? `your role no longer lets you ${action}` : "your role no longer allows it"}. `
        : null}
      Your role in {change.orgName} is now {role}, and this page now shows only what it allows.
    </span>
  );
}

/**
 * The frame of every logged-in page: header (logo, org switcher, person), navigation of the
 * current org, a notice while the email is unverified, and the page. `org` is the slug in the URL.
 */
export function AppShell({ org, children }: { org?: string; children: ReactNode }) {
  const pathname = usePathname();
  const meQuery = useMe();
  const me = meQuery.data;
  const membership = org ? orgOf(me, org) : undefined;

  useEffect(() => {
    if (membership) rememberOrg(membership.slug);
  }, [membership]);
  const roleChange = useRoleChangeNotice(membership, meQuery.dataUpdatedAt);

  const navOrg = membership ?? (org ? undefined : me?.orgs[0]);
  const nav = navOrg
    ? ORG_NAV.filter((item) => item.permission === null || can(navOrg, item.permission)).map((item) => ({
        label: item.label,
        href: item.href(navOrg.slug),
      }))
    : [];
  nav.push({ label: "Account", href: paths.account });

  let body: ReactNode = children;
  if (meQuery.isPending) {
    body = <LoadingState />;
  } else if (meQuery.isError) {
    const description = describeError(meQuery.error);
    body = (
      <Alert
        tone="error"
        title="Your account could not be loaded"
        actions={
          <button type="button" onClick={() => void meQuery.refetch()} className="font-semibold underline">
            Try again
          </button>
        }
      >
        {description.message}
      </Alert>
    );
  } else if (membership?.mfa_required && !me?.mfa_enabled) {
    body = <TwoFactorRequired membership={membership} />;
  } else if (org && !membership) {
    body = (
      <Alert tone="warning" title="No such organization">
        <p>This organization does not exist, or you are not one of its members.</p>
        <p>
          <Link href={paths.home} className="font-semibold underline">
            Go to your organizations
          </Link>
        </p>
      </Alert>
    );
  }

  return (
    <div className="min-h-dvh">
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-white px-3 py-2 text-sm font-semibold text-indigo-700 focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3">
          <div className="flex min-w-0 items-center gap-4">
            <IntentLink href={paths.home} className="rounded-md focus-visible:outline-2 focus-visible:outline-indigo-600">
              <Logo />
              <span className="sr-only">Home</span>
            </IntentLink>
            {me ? <OrgSwitcher orgs={me.orgs} current={membership?.slug} /> : null}
          </div>
          <div className="flex min-w-0 items-center gap-3">
            {me ? (
              <span data-testid="user-email" className="hidden truncate text-sm text-slate-600 sm:inline">
                {me.email}
              </span>
            ) : null}
            <LogoutButton />
          </div>
        </div>
        <nav aria-label="Main" className="mx-auto max-w-7xl px-2">
          <ul className="-mb-px flex gap-1 overflow-x-auto pb-2">
            {nav.map((item) => (
              <li key={item.href}>
                <NavLink href={item.href} current={isCurrent(pathname, item.href)}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      {me && !me.email_verified ? (
        <div className="border-b border-amber-200 bg-amber-50">
          <p className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 text-sm text-amber-900">
            <span>Verify your email address ({me.email}) to create an organization or accept an invitation.</span>
            <ButtonLink href={paths.verifyEmailNotice} variant="secondary" size="sm">
              Verify email
            </ButtonLink>
          </p>
        </div>
      ) : null}
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-8 focus:outline-none">
        {roleChange.notice ? (
          <Alert
            tone="info"
            title="Your role changed"
            className="mb-6"
            actions={
              <Button variant="secondary" size="sm" onClick={roleChange.dismiss}>
                Dismiss
              </Button>
            }
          >
            <RoleChangeWords change={roleChange.notice} />
          </Alert>
        ) : null}
        {body}
      </main>
    </div>
  );
}
