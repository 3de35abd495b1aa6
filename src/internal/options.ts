// Options objects checked against a registry of the names a function knows, as the core checks its own.
import { argumentError } from './errors.js'

/**
 * The option names a function knows, typed so that the compiler fails when one of `T`'s is missing from the list.
 * @example
 * const SHARE_OPTIONS: Known<ShareOptions> = { key: true }
 */
export type Known<T> = { [K in keyof T]-?: true }

/**
 * `options`, when it is an object with no property outside `known`. An unknown one is a TypeError naming it (and
 * `of`, the function, when given) and the name it most likely meant: the same but for case or an `Ms` suffix.
 * @example
 * const { key = 'apivideo-auth' } = checkOptions<ShareOptions>(options ?? {}, SHARE_OPTIONS, 'shareTokens')
 */
export function checkOptions<T extends object>(options: unknown, known: Known<T>, of?: string): T {
  if (typeof options !== 'object' || options === null) throw argumentError('options must be an object')
  const names = Object.keys(known)
  const loose = (name: string) => name.toLowerCase().replace(/ms$/, '')
  for (const property of Object.keys(options)) {
    if (names.includes(property)) continue
    const meant = names.find((name) => loose(name) === loose(property))
    const owner = of === undefined ? '' : ` of ${of}`
    const hint = meant === undefined ? '' : ` (did you mean ${meant}?)`
    throw argumentError(`unknown option ${property}${owner}${hint}`, 'ERR_UNKNOWN_OPTION')
  }
  return options as T
}
