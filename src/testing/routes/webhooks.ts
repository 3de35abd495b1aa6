// Webhook subscriptions: api.video's /webhooks routes, and the stand-in's deliveries to them (docs/webhooks.md).
import { WEBHOOK_EVENTS } from '../../internal/webhook-events.js'
import {
  type DeliverOptions,
  type WebhookDelivery,
  type WebhookEventInit,
  deliverSigned,
  eventBody,
  webhookId,
} from '../delivery.js'
import { type Bytes, json, parseJsonObject } from '../http.js'
import { atom, nonce } from '../ids.js'
import { page } from '../pagination.js'
import { problem } from '../problems.js'
import { ANY_METHOD, type Call, type Route } from '../route.js'

/** A subscription as api.video returns it, `signatureSecret` included. */
export interface StandInWebhook {
  webhookId: string
  createdAt: string
  events: string[]
  url: string
  signatureSecret: string
}

const WEBHOOK_PATH = /^\/webhooks(\/[^/]+)?$/
const METHOD_NOT_ALLOWED = problem(405, 'method-not-allowed', 'Method not allowed.')

/** The subscriptions of one stand-in, their routes, and deliveries to them. */
export function createWebhooks(now: () => number) {
  const webhooks = new Map<string, StandInWebhook>()

  function create(bytes: Bytes): Response {
    const body = parseJsonObject(bytes)
    const { url, events } = body ?? {}
    const badUrl = typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)
    const badEvents =
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((e) => (WEBHOOK_EVENTS as readonly unknown[]).includes(e))
    if (badUrl || badEvents) {
      const name = badUrl ? 'url' : 'events'
      const missing = body?.[name] === undefined
      const type = missing ? 'attribute-required' : 'invalid-attribute'
      const title = missing ? 'This attribute is required.' : 'This attribute is invalid.'
      return json(400, problem(400, type, title, name))
    }
    const webhook: StandInWebhook = {
      webhookId: webhookId(),
      createdAt: atom(now()),
      events: [...new Set(events as string[])],
      url: url as string,
      signatureSecret: `sig_sec_${nonce().slice(0, 22)}`,
    }
    webhooks.set(webhook.webhookId, webhook)
    return json(201, webhook)
  }

  /** `GET /webhooks`: the subscriptions, filtered by `events`, a page at a time. */
  function list(url: URL): Response {
    const empty = page(url, [])
    const { currentPage, pageSize } = empty.pagination
    const event = url.searchParams.get('events')
    const all = [...webhooks.values()].filter((w) => event === null || w.events.includes(event))
    const data = all.slice((currentPage - 1) * pageSize, currentPage * pageSize)
    const pagesTotal = Math.max(1, Math.ceil(all.length / pageSize))
    const last = empty.pagination.links.find((l) => l.rel === 'last')
    if (last) last.uri = last.uri.replace('currentPage=1', `currentPage=${pagesTotal}`)
    const pagination = { ...empty.pagination, pagesTotal, itemsTotal: all.length, currentPageItems: data.length }
    return json(200, { data, pagination })
  }

  /** Answers an authorized request on `/webhooks` or `/webhooks/{webhookId}`. */
  function answer({ request, url, body }: Call): Response {
    const id = WEBHOOK_PATH.exec(url.pathname)?.[1]?.slice(1)
    if (id === undefined) {
      if (request.method === 'POST') return create(body)
      if (request.method === 'GET') return list(url)
      return json(405, METHOD_NOT_ALLOWED)
    }
    const webhook = webhooks.get(decodeURIComponent(id))
    if (!webhook)
      return json(404, problem(404, 'resource-not-found', 'The requested resource was not found.', 'webhookId'))
    if (!['GET', 'DELETE'].includes(request.method)) return json(405, METHOD_NOT_ALLOWED)
    if (request.method === 'GET') return json(200, webhook)
    webhooks.delete(webhook.webhookId)
    return json(204, null)
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

  const routes: Route[] = [{ path: WEBHOOK_PATH, access: 'api', methods: { [ANY_METHOD]: answer } }]
  return { routes, deliver }
}
