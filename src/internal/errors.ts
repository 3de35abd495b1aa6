// The argument error of every add-on (the core keeps its own copy: it has no imports).

/** The codes an add-on's argument error carries. */
export type ArgumentErrorCode = 'ERR_INVALID_ARGUMENT' | 'ERR_UNKNOWN_OPTION'

/**
 * Throws the TypeError of a bad argument, with its `code`; its message names the argument, never its value.
 * @example
 * if (typeof secret !== 'string') badArgument('secret must be a string')
 */
export function badArgument(message: string, code: ArgumentErrorCode = 'ERR_INVALID_ARGUMENT'): never {
  throw Object.assign(new TypeError(message), { code })
}
