// Put before the generated checks (tests/sdk_types_support.py). Two helpers the SDK does not export.
import type * as N from "@notionhq/client/build/src/api-endpoints";
import type { APIErrorCode } from "@notionhq/client";

/** An object with nothing but `object` and `id`: what a `*Response` union admits besides the full object type. */
type IsPartial<T> = [Exclude<keyof T, "object" | "id">] extends [never] ? true : false;
type DropPartial<T> = T extends unknown ? (IsPartial<T> extends true ? never : T) : never;
/** The full members of a union; where the SDK types only a reference (`{object: "view", id}`), that reference. */
type FullOnly<T> = [DropPartial<T>] extends [never] ? T : DropPartial<T>;

/** A response as its full object type: the partial members of the union removed, in lists too. A bare
 * `{object, id}` satisfies `GetPageResponse`; it does not satisfy `Full<GetPageResponse>`. Not distributive: the
 * union is filtered as a whole, so a partial member cannot come back through `FullOnly`'s reference rule. */
type Full<T> = [T] extends [{ object: "list"; results: Array<infer R> }]
  ? Omit<T, "results"> & { results: Array<FullOnly<R>> }
  : FullOnly<T>;

/** An error body, as the SDK reads it into `APIResponseError` (errors.d.ts: code, status, message,
 * additional_data, request_id), with the code one of the SDK's `APIErrorCode` values. */
type ErrorBody = {
  object: "error";
  status: number;
  code: `${APIErrorCode}`;
  message: string;
  request_id?: string;
  additional_data?: Record<string, string | string[]>;
};

/** `CreateViewParameters` with `sorts` typed as the SDK types them in `UpdateViewRequest`. For create, 5.26 declares
 * each sort as `Record<string, never>` (no sort can be written), while its own comment, Notion's documentation and
 * `UpdateViewRequest` say a sort is `{property, direction}`: a generator slip of the SDK (docs/sandbox.md, "Known
 * differences"). Only that field is replaced, with the SDK's own type for it. */
type CreateViewChecked = Omit<N.CreateViewParameters, "sorts"> & { sorts?: NonNullable<N.UpdateViewRequest["sorts"]> };
