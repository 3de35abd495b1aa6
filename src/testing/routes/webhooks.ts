// Webhook subscriptions: POST and GET /webhooks, GET and DELETE /webhooks/{webhookId}, in api.video's shapes
// (its OpenAPI document), and the stand-in's signed deliveries to them (docs/webhooks.md).
import { WEBHOOK_EVENTS } from '../../internal/webhook-events.js'
import {
  type DeliverOptions,
  type WebhookDelivery,
  type WebhookEventInit,
  deliverSigned,
  eventBody,
  webhookId,
} from '../delivery.js'
import { json } from '../http.js'
import { atom, nonce } from '../ids.js'
import { page } from '../pagination.js'
import { jsonPayload } from '../payloads.js'
import { badRequest, invalid, notFound, required } from '../problems.js'
import type { Call, Route } from '../route.js'

/** A subscription as api.video returns it, `signatureSecret` included. */
export interface StandInWebhook {
  webhookId: string
  createdAt: string
  events: string[]
  url: string
  signatureSecret: string
}

// api.video documents that these are refused, not its wording: the attribute is named, its title says no more.
const INVALID = 'This attribute is invalid.'

/** The subscriptions of one stand-in, their routes, and deliveries to them. */
export function createWebhooks(now: () => number) {
  const webhooks = new Map<string, StandInWebhook>()

  /** `POST /webhooks`: a `webhooks-creation-payload`, an http(s) `url` and a list of known `events`. */
  function create({ request, body }: Call): Response {
    const payload = jsonPayload(request, body)
    if (payload instanceof Response) return payload
    const { url, events } = payload
    if (url === undefined) return badRequest([required('url')])
    if (typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)) return badRequest([invalid('url', INVALID)])
    if (events === undefined) return badRequest([required('events')])
    if (!Array.isArray(events) || events.length === 0 || !events.every((e) => WEBHOOK_EVENTS.includes(e)))
      return badRequest([invalid('events', INVALID)])
    const webhook: StandInWebhook = {
      webhookId: webhookId(),
      createdAt: atom(now()),
      events: [...new Set(events as string[])],
      url,
      signatureSecret: `sig_sec_${nonce().slice(0, 22)}`,
    }
    webhooks.set(webhook.webhookId, webhook)
    return json(201, webhook)
  }

  /** `GET /webhooks`: the subscriptions, filtered by `events`, a page at a time. */
  function list({ url }: Call): Response {
    const event = url.searchParams.get('events')
    return json(
      200,
      page(
        url,
        [...webhooks.values()].filter((w) => event === null || w.events.includes(event)),
      ),
    )
  }

  /** Answers a request on `/webhooks/{webhookId}` with `found(webhook)`, or api.video's 404 for an unknown id. */
  const one =
    (found: (webhook: StandInWebhook) => Response) =>
    ({ id }: Call): Response => {
      const webhook = webhooks.get(id)
      return webhook ? found(webhook) : notFound('webhookId')
    }

  /** Delivers `event` to every subscription to its type, one after the other. */
  async function deliver(event: WebhookEventInit, options: DeliverOptions = {}): Promise<WebhookDelivery[]> {
    const body = eventBody(event, now())
    const deliveries: WebhookDelivery[] = []
    for (const webhook of webhooks.values()) {
      if (!webhook.events.includes(event.type)) continue
      const { url, webhookId: id, signatureSecret: secret } = webhook
      deliveries.push(await deliverSigned({ url, webhookId: id, body, secret }, options))
    }
    return deliveries
  }

  const routes: Route[] = [
    { path: '/webhooks', access: 'api', methods: { GET: list, POST: create } },
    {
      path: /^\/webhooks\/([^/]+)$/,
      access: 'api',
      methods: {
        GET: one((webhook) => json(200, webhook)),
        DELETE: one((webhook) => {
          webhooks.delete(webhook.webhookId)
          return json(204, null)
        }),
      },
    },
  ]
  return { routes, deliver }
}
