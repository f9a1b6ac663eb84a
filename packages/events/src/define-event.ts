import { z } from "zod";
import { type Actor, type Category, envelopeShape, type Target } from "./envelope.ts";

export interface DescribeInput<Data> {
  actor: Actor;
  target?: Target | undefined;
  data: Data;
}

export interface EventDefinition<
  Type extends string = string,
  DataSchema extends z.ZodType = z.ZodType,
> {
  type: Type;
  category: Category;
  /** One line for the console's type picker. */
  title: string;
  data: DataSchema;
  /** Renders the human description stored with the entry, e.g. "alice created model acme/bert". */
  describe: (event: DescribeInput<z.output<DataSchema>>) => string;
  /** Hidden from the default view of the log (the audit log's own export events). */
  hiddenByDefault?: boolean;
  /**
   * Recorded only by the API itself (what admins do with the log): an ingestion key posting
   * one would forge an admin's action, so `POST /v1/events` refuses it.
   */
  reservedForApi?: boolean;
  /**
   * Where `data` names or identifies a person (a member's handle, an email address): paths of
   * dotted keys, `[]` for each element of an array (`"users[].user"`). An erasure (issue 16)
   * replaces the values there that identify the erased person with their pseudonym.
   */
  personalData?: readonly string[];
  /** A valid example of `data`, used by tests and documentation. */
  example: z.input<DataSchema>;
}

/** Keeps the literal type and the data schema's type, so the union below stays precise. */
export function defineEvent<const Type extends string, DataSchema extends z.ZodType>(
  definition: EventDefinition<Type, DataSchema>,
): EventDefinition<Type, DataSchema> & { schema: EventSchema<Type, DataSchema> } {
  return { ...definition, schema: eventSchemaFor(definition.type, definition.data) };
}

function eventSchemaFor<Type extends string, DataSchema extends z.ZodType>(
  type: Type,
  data: DataSchema,
) {
  // `data` may be omitted for types whose data has no required field; it is still validated.
  return z.strictObject({
    ...envelopeShape,
    type: z.literal(type),
    data: data.prefault({} as z.input<DataSchema>),
  });
}
export type EventSchema<Type extends string, DataSchema extends z.ZodType> = ReturnType<
  typeof eventSchemaFor<Type, DataSchema>
>;
