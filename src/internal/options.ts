// Options objects checked against a registry of the names a function knows, as the core checks its own.
import { badArgument } from './errors.js'

/**
 * The option names a function knows, typed so that the compiler fails when one of `T`'s is missing from the list.
 * @example
 * const SHARE_OPTIONS: Known<ShareOptions> = { key: true }
 */
export type Known<T> = { [K in keyof T]-?: true }

/**
 * `options`, when it is an object with no property outside `known`. An unknown one is a TypeError naming it, and
 * the name it most likely meant: the same but for case or an `Ms` suffix, as the core says it.
 * @example
 * const { key = 'apivideo-auth' } = checkOptions(options ?? {}, SHARE_OPTIONS)
 */
export function checkOptions<T extends object>(options: unknown, known: Known<T>): T {
  if (typeof options !== 'object' || options === null) badArgument('options must be an object')
  const names = Object.keys(known)
  for (const property of Object.keys(options)) {
    const meant = names.find((name) => name.toLowerCase() === property.toLowerCase().replace(/ms$/, ''))
    if (!names.includes(property))
      badArgument(`unknown option ${property}${meant ? ` (did you mean ${meant}?)` : ''}`, 'ERR_UNKNOWN_OPTION')
  }
  return options as T
}
