// The webhook events api.video sends, listed once: the stand-in delivers them, the webhooks add-on types them.

/** The events api.video sends to a webhook (its OpenAPI document's `webhook.events` enum). */
export const WEBHOOK_EVENTS = [
  'live-stream.broadcast.started',
  'live-stream.broadcast.ended',
  'video.source.recorded',
  'video.encoding.quality.completed',
  'video.caption.generated',
  'video.summary.generated',
] as const

/** The events api.video sends to a webhook (its OpenAPI document's `webhook.events` enum). */
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number]
