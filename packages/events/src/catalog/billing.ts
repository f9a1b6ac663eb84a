import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import { details, fromTo, money } from "./describe-helpers.ts";
import {
  billingInterval,
  label,
  labels,
  money as moneySchema,
  plan,
  text,
  timestamp,
} from "./fields.ts";

/** What the console may show of a payment method: never a full card or account number. */
const paymentMethod = z.looseObject({
  type: z.enum(["card", "sepa_debit", "us_bank_account", "link", "other"]).optional(),
  brand: label.optional(),
  last4: z
    .string()
    .regex(/^\d{4}$/, "must be 4 digits")
    .optional(),
});
const paymentMethodData = z.looseObject({ paymentMethod: paymentMethod.optional() });

function describePaymentMethod(method: z.output<typeof paymentMethod> | undefined): string {
  if (!method) return "a payment method";
  const kind = method.brand ?? method.type?.replaceAll("_", " ") ?? "payment method";
  return method.last4 ? `${kind} ending in ${method.last4}` : kind;
}

/** Twelve-digit AWS account id. */
const awsAccountId = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");
const gcpBillingAccountId = z.string().min(1).max(100);

const subscription = (name: string | undefined) =>
  name ? `the ${name} subscription` : "the subscription";

const subscriptionData = {
  plan: plan.optional(),
  interval: billingInterval.optional(),
  seats: z.int().positive().max(1_000_000).optional(),
  amount: moneySchema.optional(),
};

export const billingEvents = [
  defineEvent({
    type: "billing.update_payment_method",
    category: "billing",
    title: "Payment method updated",
    data: paymentMethodData,
    example: { paymentMethod: { type: "card", brand: "visa", last4: "4242" } },
    describe: ({ actor, data }) =>
      `${actor.name} set the payment method to ${describePaymentMethod(data.paymentMethod)}`,
  }),
  defineEvent({
    type: "billing.remove_payment_method",
    category: "billing",
    title: "Payment method removed",
    data: paymentMethodData,
    example: { paymentMethod: { type: "card", brand: "mastercard", last4: "4444" } },
    describe: ({ actor, data }) =>
      `${actor.name} removed ${data.paymentMethod ? `payment method ${describePaymentMethod(data.paymentMethod)}` : "a payment method"}`,
  }),
  defineEvent({
    type: "billing.create_customer",
    category: "billing",
    title: "Billing customer created",
    data: z.looseObject({ customerId: label.optional() }),
    example: { customerId: "cus_Q1w2E3r4T5y6U7" },
    describe: ({ actor }) => `${actor.name} created the billing account`,
  }),
  defineEvent({
    type: "billing.aws_add",
    category: "billing",
    title: "AWS account linked",
    data: z.looseObject({ accountId: awsAccountId.optional() }),
    example: { accountId: "123456789012" },
    describe: ({ actor, data }) =>
      `${actor.name} linked ${data.accountId ? `AWS account ${data.accountId}` : "an AWS account"} for billing`,
  }),
  defineEvent({
    type: "billing.aws_remove",
    category: "billing",
    title: "AWS account unlinked",
    data: z.looseObject({ accountId: awsAccountId.optional() }),
    example: { accountId: "123456789012" },
    describe: ({ actor, data }) =>
      `${actor.name} unlinked ${data.accountId ? `AWS account ${data.accountId}` : "the AWS account"} from billing`,
  }),
  defineEvent({
    type: "billing.gcp_add",
    category: "billing",
    title: "GCP account linked",
    data: z.looseObject({ billingAccountId: gcpBillingAccountId.optional() }),
    example: { billingAccountId: "01A2B3-C4D5E6-F7G8H9" },
    describe: ({ actor, data }) =>
      `${actor.name} linked ${data.billingAccountId ? `GCP billing account ${data.billingAccountId}` : "a GCP billing account"}`,
  }),
  defineEvent({
    type: "billing.gcp_remove",
    category: "billing",
    title: "GCP account unlinked",
    data: z.looseObject({ billingAccountId: gcpBillingAccountId.optional() }),
    example: { billingAccountId: "01A2B3-C4D5E6-F7G8H9" },
    describe: ({ actor, data }) =>
      `${actor.name} unlinked ${data.billingAccountId ? `GCP billing account ${data.billingAccountId}` : "the GCP billing account"}`,
  }),
  defineEvent({
    type: "billing.marketplace_approve",
    category: "billing",
    title: "Marketplace subscription approved",
    data: z.looseObject({
      marketplace: z.enum(["aws", "gcp", "azure"]),
      subscriptionId: label.optional(),
    }),
    example: { marketplace: "aws", subscriptionId: "sub-0a1b2c3d" },
    describe: ({ actor, data }) =>
      `${actor.name} approved the ${data.marketplace.toUpperCase()} Marketplace subscription`,
  }),
  defineEvent({
    type: "billing.start_subscription",
    category: "billing",
    title: "Subscription started",
    data: z.looseObject({ ...subscriptionData, plan }),
    example: {
      plan: "team",
      interval: "month",
      seats: 5,
      amount: { amount: 10_000, currency: "USD" },
    },
    describe: ({ actor, data }) =>
      `${actor.name} started ${subscription(data.plan)}${data.seats ? ` for ${data.seats} seats` : ""}${data.amount ? ` at ${money(data.amount)}${data.interval ? ` per ${data.interval}` : ""}` : ""}`,
  }),
  defineEvent({
    type: "billing.renew_subscription",
    category: "billing",
    title: "Subscription renewed",
    data: z.looseObject({ ...subscriptionData, periodEnd: timestamp.optional() }),
    example: { plan: "enterprise", interval: "year", amount: { amount: 600_000, currency: "USD" } },
    describe: ({ actor, data }) =>
      `${actor.name} renewed ${subscription(data.plan)}${data.amount ? ` for ${money(data.amount)}` : ""}`,
  }),
  defineEvent({
    type: "billing.update_subscription",
    category: "billing",
    title: "Subscription updated",
    data: z.looseObject({
      plan: plan.optional(),
      seats: z
        .looseObject({
          from: z.int().nonnegative().optional(),
          to: z.int().nonnegative().max(1_000_000),
        })
        .optional(),
      interval: billingInterval.optional(),
      fields: labels.optional(),
    }),
    example: { plan: "team", seats: { from: 5, to: 10 } },
    describe: ({ actor, data }) =>
      data.seats
        ? `${actor.name} changed the seats of ${subscription(data.plan)}${fromTo(data.seats.from?.toString(), data.seats.to.toString())}`
        : `${actor.name} updated ${subscription(data.plan)}${details(data.fields)}`,
  }),
  defineEvent({
    type: "billing.update_subscription_plan",
    category: "billing",
    title: "Subscription plan changed",
    data: z.looseObject({ from: plan.optional(), to: plan, interval: billingInterval.optional() }),
    example: { from: "team", to: "enterprise" },
    describe: ({ actor, data }) =>
      `${actor.name} changed the subscription plan${fromTo(data.from, data.to)}`,
  }),
  defineEvent({
    type: "billing.update_subscription_contract_details",
    category: "billing",
    title: "Contract details updated",
    data: z.looseObject({ contractId: label.optional(), fields: labels.optional() }),
    example: { contractId: "ctr_2026_0042", fields: ["poNumber", "billingEmail"] },
    describe: ({ actor, data }) =>
      `${actor.name} updated the subscription contract details${details(data.fields)}`,
  }),
  defineEvent({
    type: "billing.cancel_subscription",
    category: "billing",
    title: "Subscription cancelled",
    data: z.looseObject({
      plan: plan.optional(),
      reason: text.optional(),
      effectiveAt: timestamp.optional(),
    }),
    example: { plan: "team", effectiveAt: "2026-07-01T00:00:00Z" },
    describe: ({ actor, data }) =>
      `${actor.name} cancelled ${subscription(data.plan)}${data.effectiveAt ? ` effective ${data.effectiveAt.slice(0, 10)}` : ""}`,
  }),
  defineEvent({
    type: "billing.un_cancel_subscription",
    category: "billing",
    title: "Cancellation reverted",
    data: z.looseObject({ plan: plan.optional() }),
    example: { plan: "team" },
    describe: ({ actor, data }) =>
      `${actor.name} reverted the cancellation of ${subscription(data.plan)}`,
  }),
] as const;
