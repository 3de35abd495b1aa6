// The stand-in's options: their registry, their checks and their defaults.
import { badArgument } from '../internal/errors.js'
import { type Known, checkOptions } from '../internal/options.js'
import { type RateLimits, readRateLimits } from './rate-limits.js'

export interface StandInOptions {
  /** Keys that `/auth/api-key` and `Basic` credentials accept; `['test-key']` by default. */
  apiKeys?: string[] | undefined
  /** Lifetime of the tokens it issues, in seconds; 3600 by default. */
  expiresIn?: number | undefined
  /** Its clock, epoch ms; `Date.now` by default. Share it with the session under test. */
  now?: (() => number) | undefined
  /** How many of the latest requests `requests` keeps: 1,000 by default; `Infinity` keeps them all. */
  keepRequests?: number | undefined
  /**
   * Answers the control routes under `/_stand-in/` (revoke, fail, expires-in, requests, deliver) on loopback URLs,
   * for tests in another language or process; `false` by default. The CLI's `apivideo-auth stand-in` turns them on.
   */
  controlRoutes?: boolean | undefined
  /**
   * Plays api.video's rate limits: `true` for production's budgets (500 reads, 200 writes, 100 uploads a minute),
   * or budgets of one's own, `{ reads, writes, uploads, windowMs }` (each absent one production's). Off by default.
   */
  rateLimits?: boolean | RateLimits | undefined
}

const STAND_IN_OPTIONS: Known<StandInOptions> = {
  apiKeys: true,
  expiresIn: true,
  now: true,
  keepRequests: true,
  controlRoutes: true,
  rateLimits: true,
}

/** The options, checked whole, with their defaults. */
export function readOptions(options: StandInOptions) {
  const {
    apiKeys = ['test-key'],
    expiresIn = 3600,
    now = Date.now,
    keepRequests = 1000,
    controlRoutes = false,
    rateLimits,
  } = checkOptions(options, STAND_IN_OPTIONS)
  if (!Array.isArray(apiKeys) || !apiKeys.every((k) => typeof k === 'string'))
    badArgument('apiKeys must be an array of strings')
  if (!isLifetime(expiresIn)) badArgument('expiresIn must be a positive number')
  if (typeof controlRoutes !== 'boolean') badArgument('controlRoutes must be a boolean')
  if (typeof now !== 'function') badArgument('now must be a function')
  if (
    typeof keepRequests !== 'number' ||
    !(keepRequests >= 0) ||
    !(Number.isInteger(keepRequests) || keepRequests === Infinity)
  ) {
    badArgument('keepRequests must be a whole number of requests, or Infinity')
  }
  return { apiKeys, expiresIn, now, keepRequests, controlRoutes, rateLimits: readRateLimits(rateLimits) }
}

/** A token lifetime in seconds: positive and finite. */
export function isLifetime(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value < Infinity
}
