/** The application side of tsgi: types, errors, and tools for writing and testing apps. */
export * from './types.js';
export { TsgiError, isTsgiError, ERROR_CODES, type TsgiErrorCode } from './errors.js';
export { lint, LintError, LINT_RULES, type LintOptions, type LintRule, type LintRuleId, type LintSide } from './lint.js';
export { urlmap, type UrlMapEntries } from './urlmap.js';
export { inject, type InjectRequest, type InjectResponse } from './inject.js';
