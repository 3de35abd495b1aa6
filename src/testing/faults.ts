// Faults on demand: answers queued for a path, used one per request before its normal answers resume.
import { badArgument } from '../internal/errors.js'
import { json } from './http.js'
import { plainProblem } from './problems.js'

/** One scripted answer: an HTTP reply, a pause before the normal answer, or a dropped connection. */
export type Fault =
  | { status: number; body?: unknown; headers?: ConstructorParameters<typeof Headers>[0] }
  | { delay: number }
  | { networkError: true }

/** The faults queued for each path, checked whole when they are queued. */
export function createFaults() {
  const queued = new Map<string, Fault[]>()

  /** Queues `faults` for `path`, after those already queued for it. */
  function queue(path: string, ...faults: Fault[]): void {
    // Faults match on the path alone: a query or hash would never match.
    if (typeof path !== 'string' || !/^\/[^?#]*$/.test(path))
      badArgument('path must be a string starting with "/", with no query or hash')
    faults.forEach(checkFault)
    queued.set(path, [...(queued.get(path) ?? []), ...faults])
  }

  /**
   * Plays the next fault queued for the request's path: its answer, a pause before the normal answer (undefined
   * then), or a rejection as on a dropped connection. Undefined when none is queued.
   */
  async function play(request: Request, path: string): Promise<Response | undefined> {
    const fault = queued.get(path)?.shift()
    if (fault === undefined) return undefined
    if ('networkError' in fault) throw new TypeError('stand-in: connection reset')
    if ('delay' in fault) await pause(fault.delay, request.signal)
    if (!('status' in fault)) return undefined
    return json(
      fault.status,
      fault.body ?? plainProblem(fault.status, `Stand-in fault ${fault.status}.`),
      fault.headers,
    )
  }

  return { queue, play }
}

/** A fault checked whole when given, so a mistake is a TypeError now, not a network error at the next request. */
function checkFault(fault: Fault): void {
  const f = (fault ?? {}) as Record<string, unknown>
  let ok =
    ('status' in f && Number.isInteger(f.status) && (f.status as number) >= 200 && (f.status as number) <= 599) ||
    ('delay' in f && typeof f.delay === 'number' && f.delay >= 0 && f.delay <= 2_147_483_647) ||
    f.networkError === true
  try {
    new Headers(f.headers as HeadersInit | undefined)
    JSON.stringify(f.body)
  } catch {
    ok = false
  }
  if (!ok)
    badArgument(
      'faults must each be { status: 200-599, body?: JSON, headers?: valid headers }, { delay: 0-2147483647 ms }' +
        ' or { networkError: true }',
    )
}

/** Waits `ms`, or less if the request is aborted: no timer outlives its request. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      if (signal.aborted) reject(signal.reason)
      else resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}
