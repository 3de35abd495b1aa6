// The control routes, for the stand-in served over HTTP: tests in another language or process steer it with them.
import { type Known, checkOptions } from '../internal/options.js'
import type { DeliverOptions, WebhookDelivery, WebhookEventInit } from './delivery.js'
import type { Fault } from './faults.js'
import { json } from './http.js'
import { isLifetime } from './options.js'
import { jsonPayload } from './payloads.js'
import { plainProblem } from './problems.js'
import { type Budgets, readRateLimits } from './rate-limits.js'
import type { StandInCounts, StandInRequest } from './request-log.js'
import { ANY_METHOD, type Call, type Responder, type Route } from './route.js'

/** What the control routes steer: the stand-in's own methods. */
export interface Controls {
  revoke(): void
  fail(path: string, ...faults: Fault[]): void
  setExpiresIn(seconds: number): void
  report(): { requests: StandInRequest[]; counts: StandInCounts }
  deliver(event: WebhookEventInit, options: DeliverOptions): Promise<WebhookDelivery[]>
  setRateLimits(limits: Budgets | undefined): void
}

/** The body of `POST /_stand-in/rate-limits`: the option as createStandIn takes it. */
const RATE_LIMITS_BODY: Known<{ rateLimits?: unknown }> = { rateLimits: true }

/** The body of `POST /_stand-in/deliver`. */
interface DeliverBody {
  event: WebhookEventInit
  retry?: boolean
}
const DELIVER_BODY: Known<DeliverBody> = { event: true, retry: true }

const CONTROL_PREFIX = '/_stand-in/'
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]']

const controlProblem = (status: number, title: string): Response => json(status, plainProblem(status, title))

/** The host name of a `Host` header's value (`127.0.0.1:8080`, `[::1]:80`), or '' when it is not one. */
function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname
  } catch {
    return ''
  }
}

/**
 * The 403 of a control request that is not a loopback client's: the URL and the `Host` header must both be
 * loopback, and no `Origin` header (a web page's) is taken, so that no page a developer visits (nor a DNS
 * rebinding) can steer the stand-in on their machine. Undefined for a loopback client.
 */
export function refuseOutsider({ request, url }: Call): Response | undefined {
  const hosts = [url.host, request.headers.get('host') ?? url.host]
  if (hosts.every((host) => LOOPBACK_HOSTS.includes(hostnameOf(host))) && !request.headers.has('origin'))
    return undefined
  return controlProblem(403, 'The control routes answer loopback clients only, never a web page.')
}

/**
 * `GET /_stand-in/requests`, `POST /_stand-in/revoke`, `POST /_stand-in/fail {"path", "faults"}`,
 * `POST /_stand-in/expires-in {"expiresIn"}`, `POST /_stand-in/deliver {"event", "retry"}` and
 * `POST /_stand-in/rate-limits {"rateLimits"}` (as the option takes it); any other path under `/_stand-in/` is a
 * 404.
 */
export function controlRoutes(controls: Controls): Route[] {
  const route = (method: string, name: string, respond: Responder): Route => ({
    path: `${CONTROL_PREFIX}${name}`,
    access: 'control',
    methods: { [method]: respond },
  })
  return [
    route('GET', 'requests', () => json(200, controls.report())),
    route('POST', 'revoke', () => {
      controls.revoke()
      return json(204, null)
    }),
    route('POST', 'fail', ({ request, body }) => {
      const payload = jsonPayload(request, body)
      if (payload instanceof Response) return payload
      try {
        if (!Array.isArray(payload.faults)) throw new TypeError('faults must be an array')
        controls.fail(payload.path as string, ...(payload.faults as Fault[]))
      } catch (error) {
        return controlProblem(400, (error as Error).message)
      }
      return json(204, null)
    }),
    route('POST', 'expires-in', ({ request, body }) => {
      const payload = jsonPayload(request, body)
      if (payload instanceof Response) return payload
      if (!isLifetime(payload.expiresIn)) return controlProblem(400, 'expiresIn must be a positive number of seconds')
      controls.setExpiresIn(payload.expiresIn)
      return json(204, null)
    }),
    route('POST', 'rate-limits', ({ request, body }) => {
      const payload = jsonPayload(request, body)
      if (payload instanceof Response) return payload
      try {
        const { rateLimits } = checkOptions(payload, RATE_LIMITS_BODY)
        if (rateLimits === undefined) throw new TypeError('rateLimits is missing: true, false or budgets')
        controls.setRateLimits(readRateLimits(rateLimits))
      } catch (error) {
        return controlProblem(400, (error as Error).message)
      }
      return json(204, null)
    }),
    // A test in another process triggers a webhook: the deliveries say what was sent, never the secret.
    route('POST', 'deliver', async ({ request, body }) => {
      const payload = jsonPayload(request, body)
      if (payload instanceof Response) return payload
      try {
        const { event, retry } = checkOptions(payload, DELIVER_BODY)
        if (retry !== undefined && typeof retry !== 'boolean') throw new TypeError('retry must be a boolean')
        return json(200, { deliveries: await controls.deliver(event, { retry }) })
      } catch (error) {
        return controlProblem(400, (error as Error).message)
      }
    }),
    {
      path: /^\/_stand-in\//,
      access: 'control',
      methods: {
        [ANY_METHOD]: () =>
          controlProblem(
            404,
            'No such control route: GET requests, POST revoke, fail, expires-in, deliver or rate-limits.',
          ),
      },
    },
  ]
}
