// What a calling team writes with the types openapi-typescript generates from /openapi.json
// (tests/clients/test_clients.py generates api.d.ts beside this file and runs tsc --strict on both).
// Lines marked @ts-expect-error must NOT compile: they prove the types say what the API does.
import type { components, operations } from "./api";

type Schemas = components["schemas"];

// A body that gives only what is required compiles; every other field may be left out.
export const minimal: Schemas["UserCreate"] = { email: "ada@example.com", password: "correct horse battery staple" };
export const full: Schemas["UserCreate"] = { ...minimal, first_name: "Ada", last_name: "Lovelace", city: "London" };
// @ts-expect-error: the email is required
export const noEmail: Schemas["UserCreate"] = { password: "correct horse battery staple" };

export const patch: Schemas["UserPatch"] = { city: "Paris" };
export const article: Schemas["ArticleCreate"] = { title: "Notes on the Analytical Engine" };
export const replaced: Schemas["UserReplace"] = { email: "ada@example.com", first_name: "Ada", last_name: "L", city: "", is_active: true };

// What comes back: every field there, updated_at null until the first update.
type Created = operations["createUser"]["responses"][201]["content"]["application/json"];
export function createdAt(user: Created): string {
  return user.updated_at ?? user.created_at;
}
export function nextCursor(page: Schemas["ArticlePage"]): string | null {
  return page.data.length ? page.next_cursor : null;
}

// Headers are plain strings: If-Match is given or left out, never null.
export const ifMatch: NonNullable<operations["updateUser"]["parameters"]["header"]> = { "If-Match": '"3"' };
// @ts-expect-error: If-Match is a string, not null
export const nullIfMatch: NonNullable<operations["updateUser"]["parameters"]["header"]> = { "If-Match": null };
export const paging: NonNullable<operations["listArticles"]["parameters"]["query"]> = { limit: 20, order: "desc" };
// @ts-expect-error: order is asc or desc
export const badOrder: NonNullable<operations["listArticles"]["parameters"]["query"]> = { order: "sideways" };

// Errors are problem documents, with the bad fields listed.
type BadRequest = operations["createUser"]["responses"][400]["content"]["application/problem+json"];
export function describe(problem: BadRequest): string {
  const fields = (problem.errors ?? []).map((error) => `${error.field} (${error.in}): ${error.message}`);
  return [`${problem.status} ${problem.title}: ${problem.detail}`, ...fields].join("\n");
}
export type NotModified = operations["getUser"]["responses"][304];
export type Unauthorized = operations["listUsers"]["responses"][401];
