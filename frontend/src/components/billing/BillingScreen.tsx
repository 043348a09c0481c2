"use client";

import { useEffect, useState } from "react";

import { Alert, Button, LoadingState, PageHeader, Skeleton, Spinner } from "@/components/ui";
import {
  CONFIRM_TIMEOUT_MS,
  confirmationDelay,
  isSubscriptionLive,
  isWebUrl,
  priceWords,
  stripeErrorWords,
  stripeNavigation,
  type Billing,
  type CheckoutReturn,
  type Plan,
} from "@/lib/billing";
import { describeError, PERMISSION_WORDS } from "@/lib/errors";
import { useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { useAfterPlanChange, useBilling, useCheckout, usePortal } from "@/lib/queries/billing";
import { useOrgAccess } from "@/lib/queries/me";

import { CurrentPlanCard } from "./CurrentPlanCard";
import { InvoiceTable } from "./InvoiceTable";
import { PlanCards } from "./PlanCards";
import { StatusBanner, type PortalAction } from "./StatusBanner";
import { UsageCard } from "./UsageCard";

/** After Checkout: waiting for Stripe's webhook, seen it, or still waiting after half a minute. */
type Confirmation = "waiting" | "confirmed" | "late";

type Destination = "checkout" | "portal";

interface RedirectFailure {
  destination: Destination;
  title: string;
  message: string;
}

/**
 * Sends the browser to Stripe (Checkout for a plan, or the customer portal): asks the API for the
 * session, then leaves. Buttons wait until the page is gone; coming back with the browser's Back
 * button (a page restored from its cache) makes them usable again.
 */
function useStripeRedirect(org: string) {
  const checkout = useCheckout(org);
  const portal = usePortal(org);
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const [leaving, setLeaving] = useState<{ destination: Destination; plan: string | null } | null>(null);
  const [failure, setFailure] = useState<RedirectFailure | null>(null);

  useEffect(() => {
    const onPageShow = (event: PageTransitionEvent) => {
      if (event.persisted) setLeaving(null);
    };
    window.addEventListener("pageshow", onPageShow);
    return () => window.removeEventListener("pageshow", onPageShow);
  }, []);

  function leaveFor(destination: Destination, plan: string | null, url: string) {
    if (!isWebUrl(url)) {
      setFailure({ destination, title: "Stripe's page could not be opened", message: "The address it answered is not a web page. Nothing changed." });
      return;
    }
    setLeaving({ destination, plan });
    stripeNavigation.go(url);
  }

  const startCheckout = singleFlight(async (plan: Plan) => {
    setFailure(null);
    const input = { plan: plan.code };
    try {
      // A retry after a lost answer reuses the key, so Stripe makes one session.
      const { url } = await checkout.mutateAsync({ ...input, idempotencyKey: keys.keyFor(input) });
      leaveFor("checkout", plan.code, url);
    } catch (error) {
      setFailure({ destination: "checkout", ...stripeErrorWords(error) });
    }
  });

  const openPortal = singleFlight(async () => {
    setFailure(null);
    try {
      const { url } = await portal.mutateAsync();
      leaveFor("portal", null, url);
    } catch (error) {
      setFailure({ destination: "portal", ...stripeErrorWords(error) });
    }
  });

  const isOpeningCheckout = checkout.isPending || leaving?.destination === "checkout";
  const isOpeningPortal = portal.isPending || leaving?.destination === "portal";
  return {
    startCheckout: (plan: Plan) => void startCheckout(plan),
    openPortal: () => void openPortal(),
    pendingPlan: isOpeningCheckout ? (leaving?.plan ?? checkout.variables?.plan ?? null) : null,
    isOpeningPortal,
    isBusy: isOpeningCheckout || isOpeningPortal,
    failure,
  };
}

/** What the page says while and after it waits for Stripe to confirm a Checkout. */
function ConfirmationNotice({ confirmation, billing, onCheckAgain }: { confirmation: Confirmation; billing: Billing; onCheckAgain: () => void }) {
  if (confirmation === "waiting") {
    return (
      <Alert tone="info" title="Confirming your payment…">
        <p className="flex items-center gap-2" data-testid="checkout-confirming">
          <Spinner className="shrink-0" />
          <span>Stripe has your payment details. The plan changes as soon as Stripe confirms them, usually within seconds.</span>
        </p>
      </Alert>
    );
  }
  if (confirmation === "late") {
    return (
      <Alert
        tone="warning"
        title="The payment is not confirmed yet"
        actions={
          <Button variant="secondary" size="sm" onClick={onCheckAgain}>
            Check again
          </Button>
        }
      >
        <p data-testid="checkout-late">
          Stripe has not confirmed it to us yet; it can take a few minutes, and there is nothing to do again. This page shows the new plan
          once it is confirmed.
        </p>
      </Alert>
    );
  }
  const plan = billing.subscribed_plan;
  return (
    <Alert tone="success" title={billing.status === "trialing" ? `Your ${plan.name} trial has started` : `You are on the ${plan.name} plan`}>
      <p data-testid="checkout-confirmed">
        {billing.status === "trialing"
          ? `Everything in ${plan.name} is yours until the trial ends; then ${priceWords(plan.price)}. Cancel before then in “Manage billing” and nothing is charged.`
          : "The payment is confirmed, and the new plan's quota and features apply now."}
      </p>
    </Alert>
  );
}

function BillingSkeleton() {
  return (
    <div className="space-y-6" aria-busy="true">
      <LoadingState label="Loading billing…" />
      <div className="grid gap-6 lg:grid-cols-2">
        <Skeleton className="h-56" />
        <Skeleton className="h-56" />
      </div>
      <Skeleton className="h-64" />
    </div>
  );
}

function Screen({
  billing,
  canManage,
  redirect,
  confirmation,
  checkoutReturn,
  onCheckAgain,
}: {
  billing: Billing;
  canManage: boolean;
  redirect: ReturnType<typeof useStripeRedirect>;
  confirmation: Confirmation | null;
  checkoutReturn: CheckoutReturn | null;
  onCheckAgain: () => void;
}) {
  const portal: PortalAction = (label) =>
    canManage ? (
      <Button size="sm" onClick={redirect.openPortal} isLoading={redirect.isOpeningPortal} disabled={redirect.isBusy}>
        {label}
      </Button>
    ) : (
      <p className="text-sm">Someone whose role may {PERMISSION_WORDS["billing.manage"]} (an owner) can do this in Stripe&apos;s portal.</p>
    );
  const failure = redirect.failure;
  return (
    <div className="space-y-6">
      {confirmation ? <ConfirmationNotice confirmation={confirmation} billing={billing} onCheckAgain={onCheckAgain} /> : null}
      {checkoutReturn === "canceled" && confirmation === null ? (
        <Alert tone="info" title="Checkout was canceled">
          Nothing was charged and the plan did not change.
        </Alert>
      ) : null}
      {failure?.destination === "portal" ? (
        <Alert tone="error" title={failure.title}>
          <p data-testid="portal-error">{failure.message}</p>
        </Alert>
      ) : null}
      <StatusBanner billing={billing} portal={portal} />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <CurrentPlanCard billing={billing} />
        <UsageCard billing={billing} action={!billing.can_submit ? portalOrPlans(billing, portal) : undefined} />
      </div>
      <section aria-labelledby="plans-heading" className="space-y-3">
        <div>
          <h2 id="plans-heading" className="text-lg font-semibold text-slate-900">
            Plans
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            {!canManage
              ? `Changing the plan needs the permission to ${PERMISSION_WORDS["billing.manage"]}: ask an owner of this organization.`
              : billing.can_checkout
                ? "Upgrading opens Stripe's Checkout; the plan changes once Stripe confirms the payment."
                : "The subscription is changed or canceled in Stripe's portal (“Manage billing”)."}
          </p>
        </div>
        {failure?.destination === "checkout" ? (
          <Alert tone="error" title={failure.title}>
            <p data-testid="checkout-error">{failure.message}</p>
          </Alert>
        ) : null}
        <PlanCards
          billing={billing}
          actions={{
            canManage,
            pendingPlan: redirect.pendingPlan,
            isBusy: redirect.isBusy,
            isOpeningPortal: redirect.isOpeningPortal,
            onCheckout: redirect.startCheckout,
            onPortal: redirect.openPortal,
          }}
        />
      </section>
      <section aria-labelledby="invoices-heading" className="space-y-3">
        <h2 id="invoices-heading" className="text-lg font-semibold text-slate-900">
          Invoices
        </h2>
        <InvoiceTable invoices={billing.invoices} />
      </section>
    </div>
  );
}

/** Submissions are refused: an overdue payment is paid in the portal, a used-up quota is lifted by a larger plan (below). */
function portalOrPlans(billing: Billing, portal: PortalAction) {
  if (billing.status === "past_due" || billing.status === "unpaid") return portal("Update your card");
  return (
    <a href="#plans-heading" className="text-sm font-medium underline">
      See the plans
    </a>
  );
}

/**
 * The org's billing: the plan in force and where it comes from, the subscription's state (trial,
 * overdue payment, cancellation), this period's usage, the plans with Upgrade (Stripe Checkout)
 * and Manage (the portal) for people who may change billing, and the invoices. Back from
 * Checkout (`checkoutReturn`), it polls for a short while until Stripe's webhook changed the plan.
 */
export function BillingScreen({ org, checkoutReturn }: { org: string; checkoutReturn: CheckoutReturn | null }) {
  const access = useOrgAccess(org);
  const canRead = access.can("billing.read");
  const canManage = access.can("billing.manage");
  const [confirmation, setConfirmation] = useState<Confirmation | null>(checkoutReturn === "success" ? "waiting" : null);
  const billing = useBilling(org, {
    enabled: canRead,
    refetchInterval: (data, answers) => (confirmation === "waiting" && !(data && isSubscriptionLive(data)) ? confirmationDelay(answers) : false),
  });
  const redirect = useStripeRedirect(org);
  const afterPlanChange = useAfterPlanChange(org);

  // Stripe's webhook has made the subscription live (the plan of the Checkout, or its trial).
  if ((confirmation === "waiting" || confirmation === "late") && billing.data && isSubscriptionLive(billing.data)) {
    setConfirmation("confirmed");
  }

  useEffect(() => {
    if (confirmation !== "waiting") return;
    const timer = window.setTimeout(() => setConfirmation("late"), CONFIRM_TIMEOUT_MS);
    return () => window.clearTimeout(timer);
  }, [confirmation]);

  useEffect(() => {
    if (confirmation === "confirmed") void afterPlanChange();
  }, [confirmation, afterPlanChange]);

  // The return address is said once: a reload shows the billing page as it is.
  useEffect(() => {
    if (checkoutReturn !== null && confirmation !== "waiting") window.history.replaceState(null, "", paths.billing(org));
  }, [checkoutReturn, confirmation, org]);

  const data = billing.data;
  const isOwnerAction = canManage && data !== undefined && data.status !== "none";
  let body;
  if (data) {
    body = (
      <Screen
        billing={data}
        canManage={canManage}
        redirect={redirect}
        confirmation={confirmation}
        checkoutReturn={checkoutReturn}
        onCheckAgain={() => void billing.refetch()}
      />
    );
  } else if (access.isPending || billing.isPending) {
    body = access.isPending || canRead ? <BillingSkeleton /> : null;
  } else if (billing.isError) {
    body = (
      <Alert
        tone="error"
        title="The billing could not be loaded"
        actions={
          describeError(billing.error).isRetryable ? (
            <Button variant="secondary" size="sm" onClick={() => void billing.refetch()}>
              Try again
            </Button>
          ) : undefined
        }
      >
        {describeError(billing.error).message}
      </Alert>
    );
  }
  if (!access.isPending && !canRead && !data) {
    body = (
      <Alert tone="info" title="Not available to your role">
        Your role does not let you {PERMISSION_WORDS["billing.read"]}. Ask an owner or admin of this organization if you need to.
      </Alert>
    );
  }

  return (
    <>
      <PageHeader
        title="Billing"
        description="The plan of this organization, what this period has used, and the invoices."
        actions={
          isOwnerAction ? (
            <Button variant="secondary" onClick={redirect.openPortal} isLoading={redirect.isOpeningPortal} disabled={redirect.isBusy}>
              Manage billing
            </Button>
          ) : null
        }
      />
      {body}
    </>
  );
}
