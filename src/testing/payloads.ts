// JSON payloads as api.video's JSON operations take them, and the rules their attributes are checked with.
import { type Bytes, type Json, isJson, isObject, json, parseJsonObject } from './http.js'
import { type AttributeProblem, NOT_JSON, WRONG_CONTENT_TYPE, invalid } from './problems.js'

/**
 * A JSON object body, as api.video's JSON operations take it: an empty body reads as `{}`; another content type,
 * a body that is not JSON or not an object, is a 400.
 */
export function jsonPayload(request: Request, body: Bytes): Json | Response {
  if (body.byteLength === 0) return {}
  if (!isJson(request)) return json(400, WRONG_CONTENT_TYPE)
  return parseJsonObject(body) ?? json(400, NOT_JSON)
}

/** Checks one attribute; answers the problem's title when the value is not what api.video takes. */
export type Rule = (value: unknown) => string | undefined

export const STRING: Rule = (v) => (typeof v === 'string' ? undefined : 'This attribute must be a string.')
export const BOOLEAN: Rule = (v) => (typeof v === 'boolean' ? undefined : 'This attribute must be a boolean.')
export const OBJECT: Rule = (v) => (isObject(v) ? undefined : 'This attribute must be an object.')
export const STRINGS: Rule = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'This attribute must be an array.'
export const NULLABLE_STRING: Rule = (v) => (v === null ? undefined : STRING(v))

/** The problems of a payload, against its rules; an attribute the rules do not know is ignored. */
export function check(payload: Json, rules: Record<string, Rule>): AttributeProblem[] {
  const problems: AttributeProblem[] = []
  for (const [name, rule] of Object.entries(rules)) {
    if (!(name in payload)) continue
    const title = rule(payload[name])
    if (title) problems.push(invalid(name, title))
  }
  return problems
}
