// A runtime-neutral assert: no node:assert, no test framework, so the suite runs in every runtime as is.

export function ok(value, message = 'expected a truthy value') {
  if (!value) throw new Error(message)
}

/** JSON with object keys sorted, so that key order never matters. */
const canonical = (value) =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )

/** Deep equality of the plain values the suite compares (primitives, arrays, plain objects; own enumerable keys). */
export function equal(actual, expected, message) {
  const a = canonical(actual)
  const e = canonical(expected)
  if (a !== e) throw new Error(`${message ? `${message}: ` : ''}expected ${e}, got ${a}`)
}

/** The error `fn` throws synchronously; fails if it returns. */
export function throws(fn) {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/** The reason `promise` rejects with; fails if it resolves. */
export async function rejection(promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}
