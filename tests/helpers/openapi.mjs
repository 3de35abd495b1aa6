// Reads api.video's OpenAPI excerpts in tests/fixtures/ and checks a JSON value against one of their schemas.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

const read = (name) => parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'))

/** Both excerpts as one document: the webhooks and upload tokens one, and the video creation one. */
export const openapi = (() => {
  const uploads = read('webhooks-uploads-openapi.yaml')
  const videos = read('videos-openapi.yaml')
  return {
    paths: { ...uploads.paths, ...videos.paths },
    components: { schemas: { ...uploads.components.schemas, ...videos.components.schemas } },
  }
})()

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/**
 * The ways `value` departs from the schema named `name`, as `path: what` lines (none when it conforms). Besides
 * types, `required`, `enum`, `nullable`, bounds and date-times, a property the schema does not declare is reported:
 * the stand-in must not invent fields.
 * @example
 * assert.equal(violations(await response.json(), 'video'), [])
 */
export function violations(value, name) {
  return check(value, { $ref: `#/components/schemas/${name}` }, name)
}

function check(value, schema, path) {
  if (schema.$ref) return check(value, openapi.components.schemas[schema.$ref.split('/').pop()], path)
  if (value === null) return schema.nullable ? [] : [`${path}: null, not nullable`]
  let type = Array.isArray(value) ? 'array' : typeof value
  if (Number.isInteger(value)) type = 'integer'
  const expected = schema.type ?? (schema.properties ? 'object' : undefined)
  if (expected && type !== expected && !(expected === 'number' && type === 'integer'))
    return [`${path}: ${type}, not ${expected}`]
  const found = []
  if (schema.enum && !schema.enum.includes(value)) found.push(`${path}: ${JSON.stringify(value)} not in the enum`)
  if (schema.format === 'date-time' && !DATE_TIME.test(value)) found.push(`${path}: not a date-time`)
  if (schema.minimum !== undefined && value < schema.minimum) found.push(`${path}: under ${schema.minimum}`)
  if (schema.maximum !== undefined && value > schema.maximum) found.push(`${path}: over ${schema.maximum}`)
  if (type === 'array') value.forEach((item, i) => found.push(...check(item, schema.items ?? {}, `${path}[${i}]`)))
  if (type !== 'object' || !schema.properties) return found
  for (const key of schema.required ?? []) if (!(key in value)) found.push(`${path}.${key}: missing`)
  for (const [key, item] of Object.entries(value)) {
    const declared = schema.properties[key]
    found.push(...(declared ? check(item, declared, `${path}.${key}`) : [`${path}.${key}: not in the schema`]))
  }
  return found
}
