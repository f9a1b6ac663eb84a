import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import { fromTo } from "./describe-helpers.ts";
import { jobId, jobLabels } from "./fields.ts";

/*
 * A job's command and environment are deliberately absent: they may embed credentials. Jobs are
 * identified by id; the image and hardware flavour are enough to recognise them.
 */

const hardware = z.string().min(1).max(100);
/** A cron expression or a Hub shorthand such as "@hourly". */
const schedule = z.string().min(1).max(100);

const jobSpec = {
  /** Docker image, or a Space used as the image (`hf.co/spaces/acme/demo`). */
  image: z.string().min(1).max(500).optional(),
  flavor: hardware.optional(),
  timeoutSeconds: z.int().positive().optional(),
  labels: jobLabels.optional(),
};

const scheduled = (id: string) => `scheduled job ${id}`;

export const jobEvents = [
  defineEvent({
    type: "jobs.create",
    category: "jobs",
    title: "Job started",
    data: z.looseObject({ jobId, ...jobSpec }),
    example: {
      jobId: "68a1c0ffee0123456789abcd",
      image: "pytorch/pytorch:2.6.0",
      flavor: "a10g-small",
    },
    describe: ({ actor, data }) =>
      `${actor.name} started job ${data.jobId}${data.flavor ? ` on ${data.flavor}` : ""}`,
  }),
  defineEvent({
    type: "jobs.cancel",
    category: "jobs",
    title: "Job cancelled",
    data: z.looseObject({ jobId }),
    example: { jobId: "68a1c0ffee0123456789abcd" },
    describe: ({ actor, data }) => `${actor.name} cancelled job ${data.jobId}`,
  }),
  defineEvent({
    type: "jobs.update_labels",
    category: "jobs",
    title: "Job labels updated",
    data: z.looseObject({ jobId, labels: jobLabels }),
    example: { jobId: "68a1c0ffee0123456789abcd", labels: { team: "nlp", env: "prod" } },
    describe: ({ actor, data }) => `${actor.name} updated the labels of job ${data.jobId}`,
  }),
  defineEvent({
    type: "jobs.update_expose",
    category: "jobs",
    title: "Job exposure changed",
    data: z.looseObject({
      jobId,
      exposed: z.boolean(),
      port: z.int().min(1).max(65_535).optional(),
    }),
    example: { jobId: "68a1c0ffee0123456789abcd", exposed: true, port: 8080 },
    describe: ({ actor, data }) =>
      data.exposed
        ? `${actor.name} exposed job ${data.jobId}${data.port ? ` on port ${data.port}` : ""}`
        : `${actor.name} stopped exposing job ${data.jobId}`,
  }),
  defineEvent({
    type: "scheduled_job.create",
    category: "jobs",
    title: "Scheduled job created",
    data: z.looseObject({
      scheduledJobId: jobId,
      schedule,
      suspended: z.boolean().optional(),
      ...jobSpec,
    }),
    example: {
      scheduledJobId: "68a1d00d0123456789abcdef",
      schedule: "0 3 * * *",
      image: "python:3.12",
      flavor: "cpu-basic",
    },
    describe: ({ actor, data }) =>
      `${actor.name} created ${scheduled(data.scheduledJobId)} with schedule "${data.schedule}"`,
  }),
  defineEvent({
    type: "scheduled_job.delete",
    category: "jobs",
    title: "Scheduled job deleted",
    data: z.looseObject({ scheduledJobId: jobId }),
    example: { scheduledJobId: "68a1d00d0123456789abcdef" },
    describe: ({ actor, data }) => `${actor.name} deleted ${scheduled(data.scheduledJobId)}`,
  }),
  defineEvent({
    type: "scheduled_job.resume",
    category: "jobs",
    title: "Scheduled job resumed",
    data: z.looseObject({ scheduledJobId: jobId }),
    example: { scheduledJobId: "68a1d00d0123456789abcdef" },
    describe: ({ actor, data }) => `${actor.name} resumed ${scheduled(data.scheduledJobId)}`,
  }),
  defineEvent({
    type: "scheduled_job.suspend",
    category: "jobs",
    title: "Scheduled job suspended",
    data: z.looseObject({ scheduledJobId: jobId }),
    example: { scheduledJobId: "68a1d00d0123456789abcdef" },
    describe: ({ actor, data }) => `${actor.name} suspended ${scheduled(data.scheduledJobId)}`,
  }),
  defineEvent({
    type: "scheduled_job.run",
    category: "jobs",
    title: "Scheduled job run",
    data: z.looseObject({ scheduledJobId: jobId, jobId: jobId.optional() }),
    example: { scheduledJobId: "68a1d00d0123456789abcdef", jobId: "68a1c0ffee0123456789abcd" },
    describe: ({ actor, data }) =>
      `${actor.name} ran ${scheduled(data.scheduledJobId)}${data.jobId ? ` as job ${data.jobId}` : ""}`,
  }),
  defineEvent({
    type: "scheduled_job.update_schedule",
    category: "jobs",
    title: "Job schedule changed",
    data: z.looseObject({ scheduledJobId: jobId, from: schedule.optional(), to: schedule }),
    example: { scheduledJobId: "68a1d00d0123456789abcdef", from: "0 3 * * *", to: "@hourly" },
    describe: ({ actor, data }) =>
      `${actor.name} changed the schedule of ${scheduled(data.scheduledJobId)}${fromTo(data.from && `"${data.from}"`, `"${data.to}"`)}`,
  }),
  defineEvent({
    type: "scheduled_job.update_labels",
    category: "jobs",
    title: "Scheduled job labels updated",
    data: z.looseObject({ scheduledJobId: jobId, labels: jobLabels }),
    example: { scheduledJobId: "68a1d00d0123456789abcdef", labels: { team: "nlp" } },
    describe: ({ actor, data }) =>
      `${actor.name} updated the labels of ${scheduled(data.scheduledJobId)}`,
  }),
] as const;
